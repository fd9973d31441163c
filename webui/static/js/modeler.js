// The process owner's pages: the bpmn-js modeler with a form for what kap12 reads of the
// selected element, live validation (kap12's own, on the server, and bpmnlint's advice in
// the browser), publishing; and the read-only diagram of a version with what changed marked.
(function () {
  "use strict";

  function text(el, value) { el.textContent = value; return el; }
  function show(id, on) { var el = document.getElementById(id); if (el) { el.hidden = !on; } }
  function byId(id) { return document.getElementById(id); }

  // -- a version's diagram, with what changed since the version before ----------------------
  var versionEl = byId("version-diagram");
  if (versionEl && typeof window.BpmnJS === "function") {
    var viewer = new window.BpmnJS({ container: versionEl });
    fetch(versionEl.getAttribute("data-src"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport");
        ["added", "changed"].forEach(function (kind) {
          (versionEl.getAttribute("data-" + kind) || "").split(" ").forEach(function (id) {
            if (id && registry.get(id)) { canvas.addMarker(id, "diff-" + kind); }
          });
        });
        document.querySelectorAll("#diff li[data-element]").forEach(function (li) {
          var id = li.getAttribute("data-element");
          if (!registry.get(id)) { return; }
          li.style.cursor = "pointer";
          li.title = "Vis i diagrammet";
          li.addEventListener("click", function () {
            canvas.scrollToElement(registry.get(id));
          });
        });
        versionEl.setAttribute("data-ready", "1");
      })
      .catch(function () { text(versionEl, "Diagrammet kunne ikke vises."); });
    return;
  }

  // -- the modeler ----------------------------------------------------------------------------
  var root = byId("modeler");
  if (!root || typeof window.BpmnJS !== "function") { return; }
  var csrf = root.getAttribute("data-csrf");
  var filename = root.getAttribute("data-filename");
  var modeler, modeling, factory, registry, selection, canvas;
  var current = null;          // the element whose properties the form shows
  var checkRound = 0, checkTimer = null, problemIds = [];

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    });
  }

  function select(id) {
    var el = id && registry.get(id);
    if (!el) { return; }
    selection.select(el);
    canvas.scrollToElement(el);
  }

  function problemItem(message, id, list) {
    var li = document.createElement("li");
    if (id && registry.get(id)) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "link";
      b.setAttribute("data-element", id);
      text(b, message);
      b.title = "Vis elementet i diagrammet";
      b.addEventListener("click", function () { select(id); });
      li.appendChild(b);
    } else {
      text(li, message);
    }
    list.appendChild(li);
  }

  // -- validation -------------------------------------------------------------------------------
  function scheduleCheck() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 600);
  }

  function check() {
    var round = ++checkRound;
    var status = byId("check-status");
    status.className = "muted";
    text(status, "Kontrollerer …");
    root.setAttribute("data-checked", "0");
    modeler.saveXML({ format: true }).then(function (result) {
      lint();
      return post(root.getAttribute("data-validate"), { xml: result.xml, filename: filename });
    }).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    }).then(function (data) {
      if (round !== checkRound) { return; }
      var list = byId("problems");
      list.innerHTML = "";
      problemIds.forEach(function (id) { if (registry.get(id)) { canvas.removeMarker(id, "problem"); } });
      problemIds = [];
      data.problems.forEach(function (p) {
        problemItem(p.message, p.element, list);
        if (p.element && registry.get(p.element)) { canvas.addMarker(p.element, "problem"); problemIds.push(p.element); }
      });
      if (data.ok) {
        status.className = "status-ok";
        text(status, "Ingen feil: diagrammet kan publiseres.");
      } else {
        status.className = "status-bad";
        text(status, data.problems.length === 1 ? "1 feil må rettes før publisering:"
          : data.problems.length + " feil må rettes før publisering:");
      }
      root.setAttribute("data-checked", data.ok ? "ok" : "problems");
    }).catch(function () {
      if (round !== checkRound) { return; }
      status.className = "status-bad";
      text(status, "Kontrollen kunne ikke kjøres (er du fortsatt logget inn?). Prøv igjen om litt.");
    });
  }

  function lint() {
    if (!window.Kap12Lint) { return; }
    window.Kap12Lint.lint(modeler.getDefinitions()).then(function (reports) {
      var list = byId("lint");
      list.innerHTML = "";
      var n = 0;
      Object.keys(reports).forEach(function (rule) {
        reports[rule].forEach(function (r) {
          n += 1;
          problemItem(r.message + " (" + rule + ")", r.id, list);
        });
      });
      var box = byId("lint-box");
      box.hidden = n === 0;
      text(box.querySelector("summary"), n + " råd om tegningen (bpmnlint, på engelsk) – hindrer ikke publisering");
    }).catch(function () { show("lint-box", false); });
  }

  // -- the properties form ------------------------------------------------------------------
  var TYPE_WORDS = {
    "bpmn:Lane": "Svømmebane", "bpmn:UserTask": "Brukeroppgave", "bpmn:ScriptTask": "Skriptoppgave",
    "bpmn:SequenceFlow": "Flyt", "bpmn:ExclusiveGateway": "Eksklusiv port", "bpmn:ParallelGateway": "Parallell port",
    "bpmn:InclusiveGateway": "Inklusiv port", "bpmn:StartEvent": "Start", "bpmn:EndEvent": "Slutt",
    "bpmn:BoundaryEvent": "Hendelse på kanten", "bpmn:IntermediateCatchEvent": "Mellomliggende hendelse",
    "bpmn:CallActivity": "Kallaktivitet", "bpmn:Task": "Oppgave", "bpmn:Participant": "Deltaker", "bpmn:SubProcess": "Delprosess"
  };

  function timerOf(bo) {
    return (bo.eventDefinitions || []).filter(function (d) { return d.$type === "bpmn:TimerEventDefinition"; })[0];
  }

  function kap12Properties(bo) {
    var ext = bo.extensionElements, found = {};
    ((ext && ext.values) || []).forEach(function (v) {
      if (v.$type === "camunda:Properties") {
        (v.values || []).forEach(function (p) { found[p.name] = p.value || ""; });
      }
    });
    return found;
  }

  function fromGateway(bo) {
    return bo.sourceRef && /Gateway$/.test(bo.sourceRef.$type) && bo.sourceRef.$type !== "bpmn:ParallelGateway";
  }

  function fillForm(element) {
    current = element && element.type === "label" ? element.labelTarget : element;
    var parts = ["p-common", "p-lane", "p-usertask", "p-timer", "p-flow", "p-script"];
    parts.forEach(function (id) { show(id, false); });
    show("p-none", !current);
    if (!current || !current.businessObject) { text(byId("props-title"), "Egenskaper"); return; }
    var bo = current.businessObject;
    text(byId("props-title"), "Egenskaper: " + (bo.name || bo.id));
    text(byId("p-type"), (TYPE_WORDS[bo.$type] || bo.$type.replace("bpmn:", "")) + " · id " + bo.id);
    show("p-common", bo.$type !== "bpmn:Lane");
    byId("p-name").value = bo.name || "";
    var names = kap12Properties(bo);
    byId("p-name-nn").value = names["kap12.navn.nn"] || "";
    byId("p-name-en").value = names["kap12.navn.en"] || "";
    if (bo.$type === "bpmn:Lane") {
      show("p-lane", true);
      byId("p-lane-role").value = bo.name || "";
    } else if (bo.$type === "bpmn:UserTask") {
      show("p-usertask", true);
      byId("p-form").value = bo.get("camunda:formKey") || "";
    } else if (bo.$type === "bpmn:ScriptTask") {
      show("p-script", true);
      byId("p-script-text").value = bo.script || "";
    } else if (bo.$type === "bpmn:SequenceFlow" && fromGateway(bo)) {
      show("p-flow", true);
      byId("p-condition").value = (bo.conditionExpression && bo.conditionExpression.body) || "";
    }
    var timer = timerOf(bo);
    if (timer) {
      show("p-timer", true);
      var kind = ["timeDate", "timeDuration", "timeCycle"].filter(function (k) { return timer[k]; })[0] || "timeDate";
      byId("p-timer-kind").value = kind;
      byId("p-timer-expr").value = (timer[kind] && timer[kind].body) || "";
      var props = kap12Properties(bo);
      var kinds = (props["kap12.type"] || "").split(",").map(function (s) { return s.trim(); });
      document.querySelectorAll("input[name=p-kind]").forEach(function (box) { box.checked = kinds.indexOf(box.value) >= 0; });
      byId("p-mottaker").value = props["kap12.mottaker"] || "";
      byId("p-kalender").value = props["kap12.kalender"] || "";
    }
  }

  function setKap12Property(element, name, value) {
    var bo = element.businessObject;
    var ext = bo.extensionElements;
    if (!ext) {
      ext = factory.create("bpmn:ExtensionElements", { values: [] });
      modeling.updateProperties(element, { extensionElements: ext });
    }
    var holder = (ext.values || []).filter(function (v) { return v.$type === "camunda:Properties"; })[0];
    if (!holder) {
      if (!value) { return; }
      holder = factory.create("camunda:Properties", { values: [] });
      modeling.updateModdleProperties(element, ext, { values: (ext.values || []).concat([holder]) });
    }
    var values = holder.values || [];
    var prop = values.filter(function (p) { return p.name === name; })[0];
    if (!value) {
      if (prop) { modeling.updateModdleProperties(element, holder, { values: values.filter(function (p) { return p !== prop; }) }); }
    } else if (prop) {
      modeling.updateModdleProperties(element, prop, { value: value });
    } else {
      modeling.updateModdleProperties(element, holder, { values: values.concat([factory.create("camunda:Property", { name: name, value: value })]) });
    }
  }

  function writeTimer() {
    var timer = current && timerOf(current.businessObject);
    if (!timer) { return; }
    var kind = byId("p-timer-kind").value, expr = byId("p-timer-expr").value.trim();
    var props = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
    props[kind] = expr ? factory.create("bpmn:FormalExpression", { body: expr }) : undefined;
    modeling.updateModdleProperties(current, timer, props);
  }

  function wireForm() {
    byId("p-name").addEventListener("change", function () {
      if (current) { modeling.updateLabel(current, byId("p-name").value.trim() || undefined); }
    });
    ["nn", "en"].forEach(function (language) {
      byId("p-name-" + language).addEventListener("change", function () {
        if (current) { setKap12Property(current, "kap12.navn." + language, byId("p-name-" + language).value.trim()); }
      });
    });
    byId("p-lane-role").addEventListener("change", function () {
      if (current) { modeling.updateLabel(current, byId("p-lane-role").value || undefined); }
    });
    byId("p-form").addEventListener("change", function () {
      if (current) { modeling.updateProperties(current, { "camunda:formKey": byId("p-form").value || undefined }); }
    });
    byId("p-script-text").addEventListener("change", function () {
      if (current) { modeling.updateProperties(current, { scriptFormat: "python", script: byId("p-script-text").value }); }
    });
    byId("p-condition").addEventListener("change", function () {
      var body = byId("p-condition").value.trim();
      if (current) {
        modeling.updateProperties(current, {
          conditionExpression: body ? factory.create("bpmn:FormalExpression", { body: body }) : undefined
        });
      }
    });
    byId("p-timer-kind").addEventListener("change", writeTimer);
    byId("p-timer-expr").addEventListener("change", writeTimer);
    document.querySelectorAll("input[name=p-kind]").forEach(function (box) {
      box.addEventListener("change", function () {
        if (!current) { return; }
        var kinds = [];
        document.querySelectorAll("input[name=p-kind]").forEach(function (b) { if (b.checked) { kinds.push(b.value); } });
        setKap12Property(current, "kap12.type", kinds.join(","));
      });
    });
    byId("p-mottaker").addEventListener("change", function () {
      if (current) { setKap12Property(current, "kap12.mottaker", byId("p-mottaker").value); }
    });
    byId("p-kalender").addEventListener("change", function () {
      if (current) { setKap12Property(current, "kap12.kalender", byId("p-kalender").value); }
    });
  }

  // -- publishing and saving a copy ----------------------------------------------------------
  function wirePublish() {
    // No «Publiser» for someone who may not publish for every county (the page says why).
    if (byId("deploy")) byId("deploy").addEventListener("click", function () {
      var comment = byId("comment").value.trim();
      var error = byId("publish-error");
      error.hidden = true;
      if (!comment) {
        text(error, "Skriv en kommentar om hva som er endret og hvorfor.");
        error.hidden = false;
        byId("comment").focus();
        return;
      }
      var button = byId("deploy");
      button.disabled = true;
      modeler.saveXML({ format: true }).then(function (result) {
        return post(root.getAttribute("data-deploy"), { xml: result.xml, filename: filename, comment: comment });
      }).then(function (r) {
        return r.json().then(function (data) { return { status: r.status, data: data }; });
      }).then(function (res) {
        if (res.data.ok) { window.location.assign(res.data.redirect); return; }
        button.disabled = false;
        text(error, "Ikke publisert: rett feilene under «Kontroll» først.");
        error.hidden = false;
        var list = byId("problems");
        list.innerHTML = "";
        (res.data.problems || []).forEach(function (p) { problemItem(p.message, p.element, list); });
      }).catch(function () {
        button.disabled = false;
        text(error, "Publiseringen kunne ikke sendes. Ingenting er lagret; prøv igjen.");
        error.hidden = false;
      });
    });
    byId("save-file").addEventListener("click", function (event) {
      event.preventDefault();
      modeler.saveXML({ format: true }).then(function (result) {
        var url = URL.createObjectURL(new Blob([result.xml], { type: "application/xml" }));
        var a = document.createElement("a");
        a.href = url;
        a.download = filename;
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(url); a.remove(); }, 1000);
      });
    });
  }

  // -- start ------------------------------------------------------------------------------
  fetch(root.getAttribute("data-moddle"), { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error("moddle " + r.status); } return r.json(); })
    .then(function (camunda) {
      modeler = new window.BpmnJS({ container: root, moddleExtensions: { camunda: camunda } });
      window.kap12Modeler = modeler; // for the browser tests and the curious process owner's console
      modeling = modeler.get("modeling");
      factory = modeler.get("bpmnFactory");
      registry = modeler.get("elementRegistry");
      selection = modeler.get("selection");
      canvas = modeler.get("canvas");
      return fetch(root.getAttribute("data-src"), { credentials: "same-origin" });
    })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
    .then(function (xml) { return modeler.importXML(xml); })
    .then(function () {
      canvas.zoom("fit-viewport");
      // Keep the diagram's left edge clear of the tool palette drawn over the canvas.
      var box = canvas.viewbox();
      canvas.viewbox({ x: box.x - 90 / box.scale, y: box.y, width: box.width + 90 / box.scale, height: box.height });
      var bus = modeler.get("eventBus");
      bus.on("selection.changed", function (e) { fillForm(e.newSelection[0]); });
      bus.on("commandStack.changed", function () {
        scheduleCheck();
        if (current && document.activeElement && !byId("props").contains(document.activeElement)) { fillForm(current); }
      });
      wireForm();
      wirePublish();
      fillForm(null);
      root.setAttribute("data-ready", "1");
      check();
    })
    .catch(function (err) {
      text(root, "Modellereren kunne ikke starte: " + err.message);
    });
})();
