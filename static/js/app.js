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

// Applications: after "활동 추가" or "이전 활동 복사", put the cursor in the new activity's first field.
document.addEventListener("htmx:afterSwap", function (event) {
  if (!event.detail.target || event.detail.target.id !== "plan-form-wrap") { return; }
  if (event.detail.target.querySelector("[aria-invalid='true']")) { return; }
  var field = event.detail.target.querySelector("[data-focus] select, [data-focus] input:not([type=hidden])");
  if (field) { field.focus(); }
});
