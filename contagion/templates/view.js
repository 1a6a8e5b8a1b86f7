/* contagion network view: reads the JSON data block, draws it with vis-network.
   Untrusted text (names, types, kinds, attributes) is only ever set with textContent or drawn on the canvas. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("contagion-data").textContent);
  var pal = data.palette;

  function colour(pair) {
    return {
      background: pair[0], border: pair[1],
      highlight: { background: pair[0], border: "#0f2a44" },
      hover: { background: pair[0], border: "#0f2a44" }
    };
  }
  var C = { solvent: colour(pal.solvent), lost: colour(pal.lost), group: colour(pal.group), earlier: colour(pal.earlier),
            waves: pal.waves.map(colour) };

  function tip(title, rows) {
    var box = document.createElement("div");
    box.className = "tip";
    var head = document.createElement("div");
    head.className = "tip-title";
    head.textContent = title;
    box.appendChild(head);
    var table = document.createElement("table");
    for (var i = 0; i < rows.length; i++) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.textContent = rows[i][0];
      var td = document.createElement("td");
      td.textContent = rows[i][1];
      if (rows[i][1].length > 32) { td.className = "long"; }   // sentences read left to right, numbers align right
      tr.appendChild(th);
      tr.appendChild(td);
      table.appendChild(tr);
    }
    box.appendChild(table);
    return box;
  }

  var state = { scenario: 0, step: 0, hiddenTypes: {}, hiddenKinds: {}, timer: null, yearTimer: null, ready: false };
  var nodes = new vis.DataSet(data.nodes);
  var edges = new vis.DataSet(data.edges);
  var slider = document.getElementById("wave");
  var waveLabel = document.getElementById("wave-label");
  var playButton = document.getElementById("play");

  function nodeColour(i, sc, step) {
    if (data.nodes[i].agg) { return C.group; }
    if (sc.nodeSince[i] > 0) { return C.earlier; }
    var w = sc.nodeWave[i];
    if (w >= 0 && w <= step) { return C.waves[Math.min(w, C.waves.length - 1)]; }
    if (step >= sc.waves && sc.nodeLost[i]) { return C.lost; }
    return C.solvent;
  }

  function plural(n, word) { return n.toLocaleString("en") + " " + word + (n === 1 ? "" : "s"); }

  function earlierText(sc) {
    return sc.earlier ? " (" + sc.earlier.toLocaleString("en") + " in default since an earlier year)" : "";
  }

  function stepText(sc, step) {
    if (sc.waves < 0) {
      return sc.year === undefined ? "No institution defaults in this scenario."
                                   : "No new default in " + sc.year + earlierText(sc) + ".";
    }
    if (step < 0) {
      return sc.year === undefined ? "Before the cascade: no institution has defaulted yet."
                                   : "Before the cascade of " + sc.year + earlierText(sc) + ".";
    }
    var now = sc.waveCounts[step] || 0, total = 0;
    for (var w = 0; w <= step && w < sc.waveCounts.length; w++) { total += sc.waveCounts[w]; }
    var text = step === 0 ? "Wave 0: " + plural(now, "fundamental default")
                          : "Wave " + step + ": " + plural(now, "new default") + ", " + total.toLocaleString("en") + " in all";
    if (step >= sc.waves) { text += " \u2014 final outcome"; }
    if (sc.year !== undefined) { text = sc.year + ", w" + text.slice(1) + earlierText(sc); }
    return text;
  }

  function setStep(step) {
    var sc = data.scenarios[state.scenario];
    step = Math.max(-1, Math.min(step, sc.waves));
    state.step = step;
    var updates = [];
    for (var i = 0; i < data.nodes.length; i++) {
      if (!data.nodes[i].agg) { updates.push({ id: data.nodes[i].id, color: nodeColour(i, sc, step) }); }
    }
    nodes.update(updates);
    slider.value = String(step);
    waveLabel.textContent = stepText(sc, step);
  }

  var T = data.timeline, K = T ? T.years.length : 1;
  function groupOf(s) { return Math.floor(s / K); }
  var yearSlider = document.getElementById("year");
  var yearLabel = document.getElementById("year-label");
  var yearTicks = document.querySelectorAll(".year-tick");
  var yearButton = document.getElementById("play-years");

  function yearText(sc) {
    var text = sc.year + ": " + (sc.inDefault ? sc.inDefault.toLocaleString("en") + " of " +
               data.institutions.toLocaleString("en") + " in default" : "no institution in default");
    if (sc.newDefaults) { text += ", " + sc.newDefaults.toLocaleString("en") + " new"; }
    return text;
  }

  function stopYears() {
    if (state.yearTimer) { clearInterval(state.yearTimer); state.yearTimer = null; }
    if (yearButton) { yearButton.textContent = "\u25B6 Years"; }
  }

  function stopReplay() {
    if (state.timer !== null) { clearInterval(state.timer); state.timer = null; }
    playButton.textContent = "\u25B6 Replay";
  }

  function setScenario(s) {
    stopReplay();
    state.scenario = s;
    var sc = data.scenarios[s];
    var nodeUpdates = [];
    for (var i = 0; i < data.nodes.length; i++) {
      nodeUpdates.push({ id: data.nodes[i].id, title: tip(data.nodes[i].fullName, sc.nodeTip[i]) });
    }
    nodes.update(nodeUpdates);
    var edgeUpdates = [];
    for (var j = 0; j < data.edges.length; j++) {
      // 1: cancelled by the scenario (dashed), 2: nothing due (dotted), 0: owed (solid)
      var drawn = sc.edgeCancelled[j];
      edgeUpdates.push({ id: data.edges[j].id, width: sc.edgeWidth[j],
                         dashes: drawn === 1 ? [9, 6] : (drawn === 2 ? [2, 5] : false),
                         title: tip(data.edgeTitle[j], sc.edgeTip[j]) });
    }
    edges.update(edgeUpdates);
    slider.min = "-1";
    slider.max = String(Math.max(sc.waves, -1));
    slider.disabled = sc.waves < 0;
    playButton.disabled = sc.waves < 0;
    if (yearSlider) {
      var g = groupOf(s);
      yearSlider.value = String(s % K);
      yearLabel.textContent = yearText(sc);
      for (var t = 0; t < yearTicks.length; t++) {
        var st = data.scenarios[g * K + t], count = yearTicks[t].querySelector(".n");
        count.textContent = st.inDefault.toLocaleString("en");
        if (st.newDefaults) {
          var plus = document.createElement("small");
          plus.textContent = " +" + st.newDefaults.toLocaleString("en");
          count.appendChild(plus);
        }
        yearTicks[t].querySelector(".ybar span").style.height = Math.round(100 * st.inDefault / T.top) + "%";
        yearTicks[t].setAttribute("aria-label", st.year + ": " + st.inDefault + " in default, " + st.newDefaults + " new");
        yearTicks[t].setAttribute("aria-pressed", t === s % K ? "true" : "false");
      }
    }
    var chooser = document.getElementById("scenario");
    if (chooser) { chooser.value = String(T ? groupOf(s) : s); }
    var panels = document.querySelectorAll(".scenario-panel");
    for (var k = 0; k < panels.length; k++) {
      panels[k].hidden = panels[k].getAttribute("data-scenario") !== String(s);
    }
    setStep(sc.waves);
  }

  function applyFilters() {
    var nodeUpdates = [], hiddenNode = {};
    for (var i = 0; i < data.nodes.length; i++) {
      var hide = !!state.hiddenTypes[data.nodes[i].ctype];
      hiddenNode[data.nodes[i].id] = hide;
      nodeUpdates.push({ id: data.nodes[i].id, hidden: hide });
    }
    nodes.update(nodeUpdates);
    var edgeUpdates = [];
    for (var j = 0; j < data.edges.length; j++) {
      var e = data.edges[j];
      edgeUpdates.push({ id: e.id, hidden: !!state.hiddenKinds[e.kind] || hiddenNode[e.from] || hiddenNode[e.to] });
    }
    edges.update(edgeUpdates);
  }

  setScenario(T ? K - 1 : 0);
  var network = new vis.Network(document.getElementById("network"), { nodes: nodes, edges: edges }, data.options);

  var progress = document.getElementById("progress");
  function markReady() { state.ready = true; document.body.setAttribute("data-ready", "true"); }
  if (data.physics) {
    progress.hidden = false;
    network.on("stabilizationProgress", function (p) {
      progress.textContent = "Laying out\u2026 " + Math.round(100 * p.iterations / Math.max(p.total, 1)) + "%";
    });
    network.once("stabilizationIterationsDone", function () {
      network.setOptions({ physics: { enabled: false } });
      progress.hidden = true;
      network.fit();
      markReady();
    });
  } else {
    network.once("afterDrawing", markReady);
  }

  slider.addEventListener("input", function () { stopReplay(); setStep(parseInt(slider.value, 10)); });
  if (yearSlider) {
    var toYear = function (k) { setScenario(groupOf(state.scenario) * K + k); };
    yearSlider.addEventListener("input", function () { stopYears(); toYear(parseInt(yearSlider.value, 10)); });
    for (var yt = 0; yt < yearTicks.length; yt++) {
      yearTicks[yt].addEventListener("click", function (ev) {
        stopYears();
        toYear(parseInt(ev.currentTarget.getAttribute("data-year-index"), 10));
      });
    }
    yearButton.addEventListener("click", function () {
      if (state.yearTimer) { stopYears(); return; }
      toYear(0);
      yearButton.textContent = "\u275A\u275A Pause";
      state.yearTimer = setInterval(function () {
        if (state.scenario % K >= K - 1) { stopYears(); return; }
        setScenario(state.scenario + 1);
      }, 1200);
    });
  }
  playButton.addEventListener("click", function () {
    if (state.timer !== null) { stopReplay(); return; }
    var sc = data.scenarios[state.scenario];
    setStep(-1);
    playButton.textContent = "\u275A\u275A Pause";
    state.timer = setInterval(function () {
      if (state.step >= sc.waves) { stopReplay(); return; }
      setStep(state.step + 1);
    }, 900);
  });
  var select = document.getElementById("scenario");
  if (select) {
    select.addEventListener("change", function () {
      stopYears();
      var v = parseInt(select.value, 10);
      setScenario(T ? v * K + state.scenario % K : v);
    });
  }
  var boxes = document.querySelectorAll("input[data-filter]");
  for (var b = 0; b < boxes.length; b++) {
    boxes[b].addEventListener("change", function (ev) {
      var box = ev.target, idx = box.getAttribute("data-index");
      var target = box.getAttribute("data-filter") === "type" ? state.hiddenTypes : state.hiddenKinds;
      target[idx] = !box.checked;
      applyFilters();
    });
  }
  document.getElementById("fit").addEventListener("click", function () { network.fit({ animation: { duration: 400 } }); });

  var list = document.getElementById("names");
  for (var n = 0; n < data.nodes.length; n++) {
    var opt = document.createElement("option");
    opt.value = data.nodes[n].fullName;
    list.appendChild(opt);
  }
  var search = document.getElementById("search");
  function find() {
    var q = search.value.trim().toLowerCase();
    if (!q) { return; }
    var hit = null;
    for (var i = 0; i < data.nodes.length && hit === null; i++) {
      if (data.nodes[i].fullName.toLowerCase() === q) { hit = data.nodes[i].id; }
    }
    for (var k = 0; k < data.nodes.length && hit === null; k++) {
      if (data.nodes[k].fullName.toLowerCase().indexOf(q) >= 0) { hit = data.nodes[k].id; }
    }
    if (hit !== null) {
      network.selectNodes([hit]);
      network.focus(hit, { scale: 1.4, animation: { duration: 500 } });
    }
  }
  search.addEventListener("change", find);
  search.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { find(); } });

  window.contagionView = {
    network: network, nodes: nodes, edges: edges, data: data, state: state,
    setStep: setStep, setScenario: setScenario, applyFilters: applyFilters, yearText: yearText
  };
}());
