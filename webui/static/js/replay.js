// Revisjon: draws what the server computed. On the replay page it steps through a case's
// events (buttons, arrow keys, clicking an event) and shows, after each event, the diagram of
// the version the case ran on — done (green), open (blue), done in this very step (amber),
// sequence flows taken — and the case data with what changed marked. On the heat page it puts
// counts on every element of every diagram of one process version. Nothing is computed here.
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }
  function payload(id) { var el = byId(id); return el ? JSON.parse(el.textContent) : null; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function has(list, x) { return (list || []).indexOf(x) !== -1; }
  var MAIN = "kap12_sak"; // the routing diagram: shown, but never followed over a procedure

  function makeViewer(box, xml) {
    var viewer = new window.BpmnJS({ container: box });
    var ready = viewer.importXML(xml).then(function () {
      viewer.get("canvas").zoom("fit-viewport");
      box.setAttribute("data-ready", "1");
      return viewer;
    }).catch(function () { box.textContent = "Diagrammet kunne ikke vises."; });
    return { viewer: viewer, ready: ready, markers: [] };
  }

  // -- the replay page ------------------------------------------------------------------------
  function replayPage(data) {
    var root = byId("replay");
    var list = byId("replay-events");
    var pos = byId("replay-pos");
    var showReads = byId("show-reads");
    var tabs = byId("replay-tabs");
    var diagrams = byId("replay-diagrams");
    var tbody = byId("replay-data").querySelector("tbody");
    var stateLine = byId("replay-state");
    var events = data.events, frames = data.frames;
    var DERIVED = ["task_opened", "task_cancelled", "timer_fired", "deadline_missed", "reminder", "escalated", "case_closed"];
    var current = 0, shown = [], views = {}, selected = null, follow = true;
    var procNames = {};

    // The diagram tabs; a viewer is made the first time its tab is shown (a hidden box has no size).
    data.processes.forEach(function (p) {
      procNames[p.id] = p.name;
      var tab = el("button", "", p.name);
      tab.type = "button";
      tab.setAttribute("role", "tab");
      tab.setAttribute("data-process", p.id);
      tab.addEventListener("click", function () { follow = false; select(p.id); });
      tabs.appendChild(tab);
      var box = el("div", "diagram");
      box.setAttribute("data-process", p.id);
      box.hidden = true;
      diagrams.appendChild(box);
      views[p.id] = { box: box, tab: tab, xml: p.xml, v: null };
    });

    function select(pid) {
      if (!views[pid]) { return; }
      selected = pid;
      Object.keys(views).forEach(function (k) {
        var on = k === pid;
        views[k].box.hidden = !on;
        views[k].tab.setAttribute("aria-selected", on ? "true" : "false");
      });
      var view = views[pid];
      if (!view.v) { view.v = makeViewer(view.box, view.xml); }
      paint(pid);
    }

    function frameBefore(ev) { return frames[Math.max(ev.frame - 1, 0)]; }

    function paint(pid) {
      var view = views[pid];
      if (!view || !view.v) { return; }
      var ev = events[current], frame = frames[ev.frame], before = frameBefore(ev);
      view.v.ready.then(function (viewer) {
        if (!viewer) { return; }
        var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
        view.v.markers.forEach(function (m) { canvas.removeMarker(m[0], m[1]); });
        view.v.markers = [];
        function mark(id, cls) {
          if (registry.get(id)) { canvas.addMarker(id, cls); view.v.markers.push([id, cls]); }
        }
        var done = frame.completed[pid] || [], active = frame.active[pid] || [];
        var doneBefore = ev.frame > 0 ? (before.completed[pid] || []) : [];
        done.forEach(function (id) { mark(id, has(doneBefore, id) ? "done" : "step-done"); });
        active.forEach(function (id) { mark(id, "active"); });
        (frame.flows[pid] || []).forEach(function (id) { mark(id, "taken"); });
        view.box.setAttribute("data-seq", String(ev.seq));
      });
    }

    // Which diagram to show: where this step did something, the procedure before the routing.
    function focusOf(ev) {
      var frame = frames[ev.frame], before = frameBefore(ev), best = null, score = -1;
      data.processes.forEach(function (p) {
        var done = frame.completed[p.id] || [], prior = before.completed[p.id] || [];
        var fresh = done.filter(function (id) { return !has(prior, id); }).length;
        var active = (frame.active[p.id] || []).length;
        var s = (fresh ? 4 : 0) + (active ? 2 : 0) + (p.id === MAIN ? 0 : 1);
        if ((fresh || active) && s > score) { best = p.id; score = s; }
      });
      return best;
    }

    function value(v) {
      if (v === null || v === undefined || v === "") { return "–"; }
      if (v === true) { return "Ja"; }
      if (v === false) { return "Nei"; }
      if (Array.isArray(v)) {
        return v.map(function (x) {
          if (x && typeof x === "object") {
            return Object.keys(x).map(function (k) { return (data.labels["tiltak." + k] || k) + ": " + value(x[k]); }).join(", ");
          }
          return value(x);
        }).join("\n");
      }
      if (typeof v === "object") { return JSON.stringify(v); }
      var s = String(v);
      var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
      return m ? m[3] + "." + m[2] + "." + m[1] : s;
    }

    function renderData(ev) {
      var frame = frames[ev.frame];
      tbody.textContent = "";
      var keys = Object.keys(frame.data);
      keys.forEach(function (k) {
        var tr = el("tr", has(frame.changed, k) && ev.frame > 0 ? "changed" : "");
        var name = el("td");
        name.appendChild(document.createTextNode(data.labels[k] || k));
        if (data.labels[k]) { name.appendChild(el("small", "", k)); }
        var val = el("td", "pre", value(frame.data[k]));
        tr.appendChild(name);
        tr.appendChild(val);
        tbody.appendChild(tr);
      });
      (frame.removed || []).forEach(function (k) {
        var tr = el("tr", "removed");
        tr.appendChild(el("td", "", data.labels[k] || k));
        tr.appendChild(el("td", "", "(fjernet)"));
        tbody.appendChild(tr);
      });
      stateLine.textContent = "";
      var p = el("p", "state-line");
      if (frame.completed_case) {
        p.textContent = "Saken er avsluttet.";
      } else {
        var open = frame.tasks.map(function (t) { return "«" + t.title + "»"; });
        var waits = frame.timers.map(function (t) { return t.name + " (" + t.due_at.slice(0, 10).split("-").reverse().join(".") + ")"; });
        p.textContent = (open.length ? "Åpne oppgaver: " + open.join(", ") + ". " : "Ingen åpne oppgaver. ") +
          (waits.length ? "Venter på: " + waits.join(", ") + "." : "");
      }
      stateLine.appendChild(p);
    }

    function build() {
      list.textContent = "";
      shown = [];
      events.forEach(function (ev, i) {
        if (ev.kind === "case_read" && !showReads.checked) { return; }
        shown.push(i);
        var li = el("li", (has(DERIVED, ev.kind) ? "ev-derived" : "step-input") +
          (ev.divergent ? " divergent" : "") + (ev.replayed ? "" : " not-replayed"));
        li.setAttribute("data-seq", String(ev.seq));
        var b = el("button");
        b.type = "button";
        b.appendChild(el("time", "", "nr. " + ev.seq + " · " + ev.when));
        if (!has(["task_opened", "task_cancelled"], ev.kind)) { b.appendChild(el("span", "who", ev.actor)); }
        b.appendChild(el("span", "what", ev.text));
        if (!ev.replayed) { b.appendChild(el("small", "", " (ikke gjenkjørt)")); }
        b.addEventListener("click", function () { go(i); });
        li.appendChild(b);
        list.appendChild(li);
      });
      if (shown.indexOf(current) === -1) {
        current = shown.filter(function (i) { return i < current; }).pop() || shown[0] || 0;
      }
    }

    function go(i, keepFocus) {
      if (!events.length) { return; }
      current = Math.max(0, Math.min(i, events.length - 1));
      var ev = events[current];
      var n = shown.indexOf(current);
      Array.prototype.forEach.call(list.children, function (li, k) {
        li.classList.toggle("current", k === n);
        li.classList.toggle("past", k < n);
        li.classList.toggle("future", k > n);
        if (k === n) {
          li.setAttribute("aria-current", "step");
          if (li.scrollIntoView) { li.scrollIntoView({ block: "nearest" }); }
          if (!keepFocus) { li.querySelector("button").focus({ preventScroll: true }); }
        } else {
          li.removeAttribute("aria-current");
        }
      });
      pos.textContent = "Hendelse " + (n + 1) + " av " + shown.length + " – " + ev.when;
      root.setAttribute("data-current-seq", String(ev.seq));
      Object.keys(views).forEach(function (pid) {
        var active = (frames[ev.frame].active[pid] || []).length > 0;
        views[pid].tab.classList.toggle("has-active", active);
      });
      var target = follow ? focusOf(ev) : null;
      if (target && target !== selected) { select(target); } else { paint(selected); }
      renderData(ev);
    }

    function step(delta) {
      var n = shown.indexOf(current) + delta;
      if (n >= 0 && n < shown.length) { follow = true; go(shown[n]); }
    }

    root.querySelectorAll("[data-go]").forEach(function (b) {
      b.addEventListener("click", function () {
        var what = b.getAttribute("data-go");
        follow = true;
        if (what === "first") { go(shown[0]); } else if (what === "last") { go(shown[shown.length - 1]); }
        else { step(what === "next" ? 1 : -1); return; }
      });
    });
    document.addEventListener("keydown", function (e) {
      var t = e.target && e.target.tagName;
      if (t === "INPUT" || t === "SELECT" || t === "TEXTAREA" || e.altKey || e.ctrlKey || e.metaKey) { return; }
      if (e.key === "ArrowRight" || e.key === "ArrowDown") { step(1); e.preventDefault(); }
      else if (e.key === "ArrowLeft" || e.key === "ArrowUp") { step(-1); e.preventDefault(); }
      else if (e.key === "Home") { follow = true; go(shown[0]); e.preventDefault(); }
      else if (e.key === "End") { follow = true; go(shown[shown.length - 1]); e.preventDefault(); }
    });
    showReads.addEventListener("change", function () { build(); go(current, true); });
    // The data's own names (alvorlig_sak) are for troubleshooting: shown only when asked for.
    var showNames = byId("show-names");
    if (showNames) {
      showNames.addEventListener("change", function () {
        byId("replay-data").classList.toggle("show-names", showNames.checked);
      });
    }

    build();
    var first = data.processes.filter(function (p) { return p.id !== MAIN; })[0] || data.processes[0];
    if (first) { select(first.id); }
    go(shown[0], true);
  }

  // -- the heat page ---------------------------------------------------------------------------
  function heatPage(data) {
    var root = byId("heat");
    var max = 1;
    Object.keys(data.counts).forEach(function (p) {
      Object.keys(data.counts[p]).forEach(function (id) { max = Math.max(max, data.counts[p][id].passed); });
    });
    data.processes.forEach(function (p) {
      var counts = data.counts[p.id] || {};
      var box = el("section", "card diagram-box");
      box.appendChild(el("h2", "", p.name));
      var canvasEl = el("div", "diagram");
      canvasEl.setAttribute("data-process", p.id);
      box.appendChild(canvasEl);
      root.appendChild(box);
      makeViewer(canvasEl, p.xml).ready.then(function (viewer) {
        if (!viewer) { return; }
        var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry"), overlays = viewer.get("overlays");
        Object.keys(counts).forEach(function (id) {
          var c = counts[id];
          if (!registry.get(id)) { return; }
          if (c.passed) { canvas.addMarker(id, "heat-" + Math.max(1, Math.ceil(5 * c.passed / max))); }
          if (c.missed) { canvas.addMarker(id, "heat-missed"); }
          var html = "<div class=\"heat-counts\">" +
            (c.passed ? "<span class=\"heat-badge\" title=\"saker som har utført steget\">" + c.passed + "</span> " : "") +
            (c.missed ? "<span class=\"heat-badge missed\" title=\"frister som gikk ut\">" + c.missed + " frist</span>" : "") +
            (c.open_now ? " <span class=\"heat-badge\" title=\"åpne nå\" style=\"background:#5a6372\">" + c.open_now + " åpen</span>" : "") +
            "</div>";
          overlays.add(id, { position: { top: -14, left: 0 }, html: html });
        });
      });
    });
  }

  if (typeof window.BpmnJS !== "function") { return; }
  var replayData = payload("replay-payload");
  if (replayData) { replayPage(replayData); }
  var heatData = payload("heat-payload");
  if (heatData) { heatPage(heatData); }
})();
