// The portal's behaviour beyond htmx, served as a file: the Content-Security-Policy allows no
// inline script. Loaded in <head>, before the page is drawn, so "js" styles apply at once.
document.documentElement.classList.replace("no-js", "js");
// Field errors arrive out of band; mark their fields invalid (or valid again) to match.
document.addEventListener("htmx:afterSettle", function () {
  document.querySelectorAll(".field-error").forEach(function (error) {
    var field = document.querySelector('[aria-describedby~="' + error.id + '"]');
    if (field) field.setAttribute("aria-invalid", error.textContent.trim() ? "true" : "false");
  });
});
// A form that asks first (data-confirm) sends only when confirmed; a form posted once
// waits for its answer with its buttons off, so a double click sends one request.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.hasAttribute("data-sent")) { event.preventDefault(); return; }  // a second click
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) { event.preventDefault(); return; }
  if (form.method.toLowerCase() !== "post" || form.hasAttribute("hx-post")) return;
  form.setAttribute("data-sent", "");
  setTimeout(function () {  // after the browser has read the pressed button's value
    form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
  });
});
// Back to a page kept in the browser's cache: its buttons work again.
window.addEventListener("pageshow", function (event) {
  if (!event.persisted) return;
  document.querySelectorAll("form[data-sent]").forEach(function (form) { form.removeAttribute("data-sent"); });
  document.querySelectorAll("form button").forEach(function (button) { button.disabled = false; });
});
// On a phone the comparison's choice folds into its summary line, so that the shown plan's
// price is on the first screen; the summary opens it. Without JavaScript it stays open.
document.addEventListener("DOMContentLoaded", function () {
  var choice = document.getElementById("choice");
  if (choice && window.matchMedia("(max-width: 40rem)").matches) choice.open = false;
});
// A day of a month picker puts its date into its field, as the reader would type it, and the
// field's change updates the prices; the picker then closes.
document.addEventListener("click", function (event) {
  var day = event.target.closest("[data-pick-date]");
  if (!day) return;
  var field = document.getElementById(day.getAttribute("data-for"));
  if (!field) return;
  field.value = day.getAttribute("data-pick-date");
  field.dispatchEvent(new Event("change", { bubbles: true }));
  var calendar = day.closest(".month-picker");
  if (calendar) calendar.replaceChildren();
  field.focus();
});
