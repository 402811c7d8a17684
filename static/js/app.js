// Small enhancements; every page works without this file.
document.addEventListener("htmx:afterSwap", function (event) {
  // After a form fragment comes back with errors, move focus to the first invalid field.
  // (A history restore — the back button after a pushed URL — swaps with no target.)
  if (!event.detail.target) { return; }
  var invalid = event.detail.target.querySelector("[aria-invalid='true']");
  if (invalid) { invalid.focus(); }
});

// Groups: after "가구 추가", put the cursor in the new household's first field.
document.addEventListener("htmx:afterSwap", function (event) {
  if (!event.detail.target || event.detail.target.id !== "households") { return; }
  var row = event.detail.target.querySelector("[data-focus] input:not([type=hidden])");
  if (row) { row.focus(); }
});

// A confirmation swapped in under its button (정산서 제출, 정산 승인, 심사 제출): read it first.
document.addEventListener("htmx:afterSwap", function (event) {
  if (!event.detail.target) { return; }
  var heading = event.detail.target.querySelector("[data-focus-on-swap]");
  if (heading) { heading.focus(); heading.scrollIntoView({block: "start"}); }
});
