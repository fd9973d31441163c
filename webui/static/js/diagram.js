// Draws the case's diagrams with bpmn-js (read-only, pan and zoom) and marks what is done
// (green) and what is open now (blue). The ids come from the case's diagram.json.
(function () {
  "use strict";
  var root = document.getElementById("diagrams");
  if (!root || typeof window.BpmnJS !== "function") { return; }
  fetch(root.getAttribute("data-src"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (data) {
      data.processes.forEach(function (p) {
        var box = document.createElement("div");
        box.className = "diagram-box";
        var title = document.createElement("h3");
        title.textContent = p.name;
        var canvasEl = document.createElement("div");
        canvasEl.className = "diagram";
        canvasEl.setAttribute("data-process", p.id);
        box.appendChild(title);
        box.appendChild(canvasEl);
        root.appendChild(box);
        var viewer = new window.BpmnJS({ container: canvasEl });
        viewer.importXML(p.xml).then(function () {
          var canvas = viewer.get("canvas");
          var registry = viewer.get("elementRegistry");
          canvas.zoom("fit-viewport");
          p.completed.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "done"); } });
          p.active.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "active"); } });
          canvasEl.setAttribute("data-ready", "1");
        }).catch(function () {
          canvasEl.textContent = "Diagrammet kunne ikke vises.";
        });
      });
    })
    .catch(function () {
      root.appendChild(document.createTextNode("Diagrammet kunne ikke hentes."));
    });
})();
