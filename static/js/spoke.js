// spoke: small progressive enhancements. Everything works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // "Menu" folds the admin nav on a phone.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest ? e.target.closest(".nav-toggle") : null;
    if (!btn) return;
    var open = btn.closest(".topbar").classList.toggle("nav-open");
    btn.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // Forms marked data-enter-sends submit on Enter key-UP only: a held key repeats
  // keydown, never keyup, so holding Enter can never send more than one message.
  function enterForm(e) {
    if (e.key !== "Enter" || e.shiftKey || e.isComposing) return null;
    return e.target.closest ? e.target.closest("form[data-enter-sends]") : null;
  }
  document.addEventListener("keydown", function (e) {
    if (enterForm(e)) e.preventDefault();
  });
  document.addEventListener("keyup", function (e) {
    var form = enterForm(e);
    if (!form || form.dataset.sending === "1") return;
    form.dataset.sending = "1";
    form.requestSubmit();
  });

  // "Copy link" buttons copy the value of the input named in data-copy-target.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest ? e.target.closest("[data-copy-target]") : null;
    if (!btn) return;
    e.preventDefault();
    var input = document.getElementById(btn.dataset.copyTarget);
    if (!input) return;
    input.select();
    var done = function () { btn.textContent = "Copied"; setTimeout(function () { btn.textContent = "Copy link"; }, 2000); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
    } else { document.execCommand("copy"); done(); }
  });

  // Confirm before destructive buttons (data-confirm) when htmx is not handling it.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var message = form.dataset.confirm;
    // htmx asks itself (hx-confirm) when it handles the form; don't ask twice.
    if (window.htmx && form.hasAttribute("hx-confirm")) return;
    if (message && !window.confirm(message)) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);

  // A choice marked data-closes-details folds its <details> list once htmx has answered
  // (CSP forbids hx-on, which needs eval).
  document.addEventListener("htmx:afterRequest", function (e) {
    var el = e.detail && e.detail.elt;
    if (!el || !el.closest || !el.hasAttribute("data-closes-details")) return;
    var details = el.closest("details");
    if (details) details.open = false;
  });
})();
