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

// Receipt viewer: a thumbnail link marked data-viewer opens its image large in a dialog (Esc or
// 닫기 closes it and focus goes back to the thumbnail). Without this script the link opens the
// image itself in a new page; a modified click (new tab) keeps doing that.
(function () {
  var dialog, opener;

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "viewer";
    dialog.setAttribute("aria-labelledby", "viewer-title");
    dialog.innerHTML = '<div class="viewer__bar"><h2 class="viewer__title" id="viewer-title"></h2>' +
      '<button type="button" class="krds-btn secondary small viewer__close">닫기</button></div>' +
      '<img class="viewer__img" alt="">' +
      '<p class="viewer__foot"><a class="viewer__open" target="_blank" rel="noopener">새 창에서 원본 보기</a></p>';
    dialog.querySelector(".viewer__close").addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("click", function (event) {   // a click on the backdrop closes too
      if (event.target === dialog) { dialog.close(); }
    });
    dialog.addEventListener("close", function () {
      dialog.querySelector(".viewer__img").removeAttribute("src");
      if (opener && document.contains(opener)) { opener.focus(); }
    });
    document.body.appendChild(dialog);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-viewer]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) { return; }
    if (typeof HTMLDialogElement === "undefined") { return; }
    event.preventDefault();
    if (!dialog || !document.contains(dialog)) { build(); }
    var thumb = link.querySelector("img");
    var label = thumb ? thumb.alt : link.textContent.trim();
    opener = link;
    dialog.querySelector(".viewer__title").textContent = label;
    var image = dialog.querySelector(".viewer__img");
    image.alt = label;
    image.src = link.href;
    dialog.querySelector(".viewer__open").href = link.href;
    dialog.showModal();
  });
})();

// Applications: after "활동 추가" or "이전 활동 복사", put the cursor in the new activity's first field.
document.addEventListener("htmx:afterSwap", function (event) {
  if (!event.detail.target || event.detail.target.id !== "plan-form-wrap") { return; }
  if (event.detail.target.querySelector("[aria-invalid='true']")) { return; }
  var field = event.detail.target.querySelector("[data-focus] select, [data-focus] input:not([type=hidden])");
  if (field) { field.focus(); }
});
