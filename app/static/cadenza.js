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
    notice.textContent = document.documentElement.lang === "it"
      ? "Connessione assente: la modifica non è stata salvata."
      : "No connection: the change was not saved.";
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
})();
