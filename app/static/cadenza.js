// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Errors that htmx does not swap (403, 404, 429, 5xx) are shown in the flash area.
  document.addEventListener("htmx:responseError", function (event) {
    var flash = document.getElementById("flash");
    var xhr = event.detail.xhr;
    if (!flash) { return; }
    var article = new DOMParser().parseFromString(xhr.responseText, "text/html").querySelector("[role=alert]");
    flash.replaceChildren();
    var notice = document.createElement("p");
    notice.className = "notice notice-error";
    notice.setAttribute("role", "alert");
    notice.textContent = article ? article.textContent.trim().replace(/\s+/g, " ") : (xhr.status + " " + xhr.statusText);
    flash.appendChild(notice);
  });

  document.addEventListener("htmx:sendError", function () {
    var flash = document.getElementById("flash");
    if (!flash) { return; }
    var notice = document.createElement("p");
    notice.className = "notice notice-error";
    notice.setAttribute("role", "alert");
    notice.textContent = document.body.dataset.offlineMessage;
    flash.replaceChildren(notice);
  });

  // Preselect the browser's time zone in fields that ask for one, if the person has not chosen.
  document.addEventListener("DOMContentLoaded", function () {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    document.querySelectorAll("select[data-browser-zone]").forEach(function (select) {
      if (select.value === "UTC" && select.querySelector('option[value="' + zone + '"]')) {
        select.value = zone;
      }
    });
  });

  // "Skip to posts" names the first post of the page as it was served; after htmx has swapped
  // in another month or week, the first post on screen is another one.
  document.addEventListener("click", function (event) {
    var skip = event.target.closest && event.target.closest("[data-skip-to-posts]");
    var first = skip && document.querySelector("main a.chip");
    if (first) {
      event.preventDefault();
      first.focus();
    }
  });

  // The post panel ---------------------------------------------------------------------------
  function panel() { return document.getElementById("panel"); }

  function closePanel(event) {
    var slot = panel();
    if (!slot || slot.classList.contains("page-panel")) { return; }
    if (event) { event.preventDefault(); }
    slot.replaceChildren();
    var calendar = document.getElementById("calendar");
    if (calendar && calendar.getAttribute("hx-get")) {
      history.replaceState(history.state, "", calendar.getAttribute("hx-get"));
    }
  }

  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-close-panel]");
    if (close) { closePanel(event); }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && panel() && panel().children.length) { closePanel(event); }
  });

  // Move focus into the panel when it opens, so keyboard and screen reader users land there.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "panel") {
      var heading = panel().querySelector("h2[tabindex]");
      if (heading) { heading.focus(); }
      updateCounters();
    }
  });

  // Character counters: a warning per selected channel, never a block.
  function updateCounters() {
    var copy = document.getElementById("copy");
    var title = document.getElementById("title");
    var out = document.getElementById("copy-counters");
    if (!copy || !out) { return; }
    var limits = JSON.parse(copy.dataset.limits || "{}");
    var titleLimits = title ? JSON.parse(title.dataset.titleLimits || "{}") : {};
    var chosen = Array.prototype.map.call(
      document.querySelectorAll('#post-form input[name="channels"]:checked'),
      function (box) { return box.value; });
    // A personal profile counts as the channel of its network (LinkedIn, X…), once.
    document.querySelectorAll('#post-form input[name="profiles"]:checked').forEach(function (box) {
      if (box.dataset.channel && chosen.indexOf(box.dataset.channel) < 0) { chosen.push(box.dataset.channel); }
    });
    out.replaceChildren();
    chosen.forEach(function (channel) {
      [[limits, copy], [titleLimits, title]].forEach(function (pair) {
        var limit = pair[0][channel];
        if (!limit || !pair[1]) { return; }
        var length = Array.from(pair[1].value).length;
        var item = document.createElement("span");
        item.textContent = channel + " " + length + "/" + limit + "  ";
        if (length > limit) { item.className = "over"; }
        out.appendChild(item);
      });
    });
  }
  document.addEventListener("input", function (event) {
    if (event.target.closest && event.target.closest("#post-form")) { updateCounters(); }
  });
  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest("#post-form")) { updateCounters(); }
  });
  document.addEventListener("DOMContentLoaded", updateCounters);

  // Drag a post onto a day: one small request re-renders the two day cells.
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var chip = event.target.closest && event.target.closest(".chip[draggable=true]");
    if (!chip) { return; }
    dragged = chip;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", chip.id);
  });
  document.addEventListener("dragend", function () {
    dragged = null;
    document.querySelectorAll(".drop-target").forEach(function (cell) { cell.classList.remove("drop-target"); });
  });
  document.addEventListener("dragover", function (event) {
    var cell = dragged && event.target.closest && event.target.closest("[data-date]");
    if (!cell) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".drop-target").forEach(function (other) {
      if (other !== cell) { other.classList.remove("drop-target"); }
    });
    cell.classList.add("drop-target");
  });
  document.addEventListener("drop", function (event) {
    var cell = dragged && event.target.closest && event.target.closest("[data-date]");
    if (!cell) { return; }
    event.preventDefault();
    cell.classList.remove("drop-target");
    var chip = dragged;
    dragged = null;
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    var grid = document.getElementById("month-grid");
    htmx.ajax("POST", chip.getAttribute("href") + "/move" + window.location.search, {
      source: cell,
      swap: "none",
      headers: headers,
      values: {
        date: cell.dataset.date,
        version: chip.dataset.version,
        due: chip.dataset.due,
        owner: chip.dataset.owner,
        status: chip.dataset.status,
        month: grid ? grid.dataset.month : ""
      }
    });
  });
})();
