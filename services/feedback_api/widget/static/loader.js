/* City of Albuquerque social media feedback widget: loader.
 *
 * The only script a City page includes. It places a sandboxed iframe whose document comes
 * from this script's own origin (feedback_api), so the host page's scripts cannot read what a
 * reporter types, and it resizes that iframe on postMessage. It reads no form data and
 * exposes no global. Strings come from the widget's message catalogues (injected below).
 *
 * It never fails silently: if the frame does not say "ready" (the browser refused it because
 * this page's origin is not in FEEDBACK_API_FRAME_ANCESTORS, the network failed, or the
 * widget's script did not run), the frame is hidden and a sentence with the link to the
 * full-page form takes its place. A late "ready" puts the frame back.
 */
(function () {
  "use strict";
  var MESSAGES = /*MESSAGES*/null;
  var THEME = {
    "--cs-color-primary": "color",
    "--cs-color-text": "color",
    "--cs-color-background": "color",
    "--cs-font-family": "font",
    "--cs-radius": "length"
  };
  var PATTERNS = {
    color: /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/,
    font: /^[A-Za-z0-9 ,'"-]{1,120}$/,
    length: /^(?:0|[0-9]{1,2}(?:\.[0-9]{1,2})?(?:px|rem|em))$/
  };
  var script = document.currentScript || document.querySelector('script[src*="/widget/v1/loader.js"]');
  if (!script || !script.src || !MESSAGES) { return; }
  var ORIGIN = new URL(script.src, window.location.href).origin;
  var HOST_ORIGIN = window.location.origin;

  var READY_AFTER_LOAD_MS = 4000;  // the frame loaded but its script never said "ready"
  var READY_TIMEOUT_MS = 20000;    // nothing at all (a slow or broken network)
  // Height reserved before the frame reports its own (about the height of the first view),
  // so the City page does not jump when it arrives (layout shift).
  var RESERVED_HEIGHT = "36rem";

  // The element's own lang, else the nearest ancestor's (usually the host page's <html lang>),
  // else the browser's language; anything but Spanish is English.
  function pickLanguage(el) {
    var owner = el.closest("[lang]");
    var code = ((owner && owner.getAttribute("lang")) || navigator.language || "en").toLowerCase();
    return code.indexOf("es") === 0 ? "es" : "en";
  }

  function readTheme(el) {
    var style = window.getComputedStyle(el);
    var out = {};
    Object.keys(THEME).forEach(function (name) {
      var value = style.getPropertyValue(name).trim();
      if (value && PATTERNS[THEME[name]].test(value)) { out[name] = value; }
    });
    return out;
  }

  function mount(el) {
    if (el.hasAttribute("data-civicsocial-mounted")) { return; }
    el.setAttribute("data-civicsocial-mounted", "");
    var lang = pickLanguage(el);
    var theme = readTheme(el);
    while (el.firstChild) { el.removeChild(el.firstChild); }

    var src = new URL("/widget/v1/frame", ORIGIN);
    src.searchParams.set("lang", lang);
    src.searchParams.set("parent", HOST_ORIGIN);
    var frame = document.createElement("iframe");
    // Cross-origin + sandbox: scripts and forms run inside, but the frame can neither
    // navigate the City page nor open pop-ups, and the City page cannot reach into it.
    // allow-modals: the receipt's "Print or save" button; allow-top-navigation-by-user-activation:
    // the frame's own "open the full-page form" link, only when a person clicks it.
    frame.setAttribute("sandbox", "allow-scripts allow-forms allow-same-origin allow-modals "
      + "allow-top-navigation-by-user-activation");
    frame.setAttribute("referrerpolicy", "no-referrer");
    frame.setAttribute("allow", "clipboard-write");
    frame.setAttribute("title", MESSAGES[lang]["loader.frame_title"]);
    frame.style.display = "block";
    frame.style.width = "100%";
    frame.style.height = RESERVED_HEIGHT;
    frame.style.border = "0";
    frame.src = src.href;

    var link = document.createElement("a");
    var paragraph = document.createElement("p");
    paragraph.className = "civicsocial-full-page";
    paragraph.appendChild(link);
    var failed = document.createElement("p");
    failed.className = "civicsocial-failed";
    failed.setAttribute("role", "status");
    failed.hidden = true;
    var ready = false;

    function showFallback() {
      if (ready) { return; }
      frame.style.display = "none";
      failed.textContent = MESSAGES[lang]["loader.failed"];
      failed.hidden = false;
      paragraph.style.fontSize = "1.25em";
      paragraph.style.fontWeight = "bold";
    }
    frame.addEventListener("load", function () { window.setTimeout(showFallback, READY_AFTER_LOAD_MS); });
    frame.addEventListener("error", showFallback);
    window.setTimeout(showFallback, READY_TIMEOUT_MS);

    function setLanguage(code) {
      lang = code;
      frame.setAttribute("title", MESSAGES[code]["loader.frame_title"]);
      link.textContent = MESSAGES[code]["loader.full_page_link"];
      link.setAttribute("lang", code);
      link.href = new URL("/report?lang=" + code, ORIGIN).href;
      if (!failed.hidden) { failed.textContent = MESSAGES[code]["loader.failed"]; }
    }
    setLanguage(lang);

    window.addEventListener("message", function (event) {
      if (event.origin !== ORIGIN || event.source !== frame.contentWindow) { return; }
      var data = event.data;
      if (!data || typeof data !== "object") { return; }
      if (data.type === "civicsocial:ready") {
        ready = true;
        frame.style.display = "block";
        failed.hidden = true;
        paragraph.removeAttribute("style");
        frame.contentWindow.postMessage({ type: "civicsocial:theme", theme: theme }, ORIGIN);
      } else if (data.type === "civicsocial:resize" && typeof data.height === "number" && isFinite(data.height)) {
        frame.style.height = Math.max(160, Math.min(20000, Math.ceil(data.height))) + "px";
      } else if (data.type === "civicsocial:lang" && (data.lang === "en" || data.lang === "es")) {
        setLanguage(data.lang);
      } else if (data.type === "civicsocial:top") {
        if (frame.getBoundingClientRect().top < 0) { frame.scrollIntoView({ block: "start" }); }
      }
    });

    el.appendChild(failed);
    el.appendChild(frame);
    el.appendChild(paragraph);
  }

  function init() {
    var elements = document.querySelectorAll("[data-civicsocial-widget]");
    for (var i = 0; i < elements.length; i += 1) { mount(elements[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
