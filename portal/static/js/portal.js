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
// A long list with a search box (the time zones): typing a city or a country keeps only the
// options that match, in their groups; the chosen option always stays. Options are removed,
// not hidden, since phones ignore hidden options in their pickers.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-narrows]").forEach(function (search) {
    var list = document.getElementById(search.getAttribute("data-narrows"));
    if (!list) return;
    var groups = Array.prototype.map.call(list.querySelectorAll("optgroup"), function (group) {
      return { group: group, options: Array.prototype.slice.call(group.children) };
    });
    var words = function (option) {
      return (option.textContent + " " + option.value + " " + (option.getAttribute("data-country") || "")).toLocaleLowerCase();
    };
    search.hidden = false;
    search.addEventListener("input", function () {
      var wanted = search.value.trim().toLocaleLowerCase();
      var chosen = list.value;
      groups.forEach(function (entry) {
        var kept = entry.options.filter(function (option) {
          return option.value === chosen || !wanted || words(option).indexOf(wanted) !== -1;
        });
        entry.group.replaceChildren.apply(entry.group, kept);
        entry.group.hidden = kept.length === 0;
      });
      list.value = chosen;  // moving options about must not change the choice
    });
  });
});
// A count's − and + buttons step its field within its bounds, as typing would (the prices
// follow once the clicks pause); without JavaScript they stay hidden and the field is typed.
function showSteppers() {
  document.querySelectorAll(".stepper-step[hidden]").forEach(function (button) { button.hidden = false; });
}
document.addEventListener("DOMContentLoaded", showSteppers);
document.addEventListener("htmx:afterSettle", showSteppers);  // a picker swapped in anew
document.addEventListener("click", function (event) {
  var button = event.target.closest(".stepper-step");
  if (!button) return;
  var field = document.getElementById(button.getAttribute("data-for"));
  if (!field) return;
  var value = parseInt(field.value, 10);
  var next = (isNaN(value) ? 0 : value) + parseInt(button.getAttribute("data-step"), 10);
  var min = parseInt(field.min || "0", 10), max = parseInt(field.max || "100000", 10);
  field.value = String(Math.min(max, Math.max(min, next)));
  field.dispatchEvent(new Event("input", { bubbles: true }));
});
// A ticket's clocks ask for themselves every few seconds only while the tab is visible: a
// hidden tab's request is held, and coming back asks at once (the "visible-again" event).
document.addEventListener("htmx:confirm", function (event) {
  if (event.target.hasAttribute("data-poll") && document.visibilityState !== "visible") {
    event.preventDefault();
  }
});
document.addEventListener("visibilitychange", function () {
  if (document.visibilityState === "visible") {
    document.dispatchEvent(new CustomEvent("visible-again"));
  }
});
