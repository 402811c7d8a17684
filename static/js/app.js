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

// 계좌번호 복사 (disbursement page): the button appears only where the clipboard works; without
// it the number stays plain, selectable text beside the button.
function showCopyButtons(root) {
  if (!navigator.clipboard) { return; }
  var found = Array.prototype.slice.call(root.querySelectorAll("[data-copy-target][hidden]"));
  if (root.matches && root.matches("[data-copy-target][hidden]")) { found.push(root); }
  found.forEach(function (button) { button.hidden = false; });
}
document.addEventListener("DOMContentLoaded", function () { showCopyButtons(document); });
document.addEventListener("htmx:load", function (event) { showCopyButtons(event.target); });
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy-target]");
  if (!button) { return; }
  var source = document.getElementById(button.getAttribute("data-copy-target"));
  var status = button.parentNode.querySelector(".copy-status");
  navigator.clipboard.writeText(source.textContent.trim()).then(function () {
    if (status) { status.textContent = "복사했습니다."; }
  }, function () {
    if (status) { status.textContent = "복사하지 못했습니다. 번호를 길게 눌러 직접 복사해 주세요."; }
  });
});
