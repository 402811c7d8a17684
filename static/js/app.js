// Small enhancements; every page works without this file.
document.addEventListener("htmx:afterSwap", function (event) {
  // After a form fragment comes back with errors, move focus to the first invalid field.
  var invalid = event.detail.target.querySelector("[aria-invalid='true']");
  if (invalid) { invalid.focus(); }
});
