// Small enhancements; every page works without this file.
document.documentElement.classList.add("js");

document.addEventListener("htmx:afterSwap", function (event) {
  // After a form fragment comes back with errors, move focus to its error summary (KRDS: the
  // list of mistakes with links), else to the first invalid field.
  // (A history restore — the back button after a pushed URL — swaps with no target.)
  if (!event.detail.target) { return; }
  // An outerHTML swap leaves the old target detached: look at its replacement (same id).
  var root = event.detail.target.isConnected ? event.detail.target
    : (event.detail.target.id && document.getElementById(event.detail.target.id));
  if (!root) { return; }
  var summary = root.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); summary.scrollIntoView({block: "start"}); return; }
  var invalid = root.querySelector("[aria-invalid='true']");
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

// The error summary: focused when the page comes back with mistakes (no htmx swap), and its
// links put the cursor in the field (a plain #link only scrolls).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary && document.activeElement !== summary) { summary.focus(); }
});
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a[data-focus-field]");
  if (!link) { return; }
  var field = document.getElementById(link.getAttribute("href").slice(1));
  if (!field) { return; }
  event.preventDefault();
  var group = field.closest(".form-group") || field;
  group.scrollIntoView({block: "start"});
  field.focus({preventScroll: true});
});

// File pickers (사진 찍기 / 파일에서 고르기): list what was chosen, with a preview of photos.
// For a single file (the receipt) the other button's choice is cleared.
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file") { return; }
  var pick = input.closest("[data-file-pick]");
  if (!pick) { return; }
  var inputs = pick.querySelectorAll("input[type=file]");
  if (pick.getAttribute("data-file-pick") === "single" && input.files.length) {
    inputs.forEach(function (other) { if (other !== input) { other.value = ""; } });
  }
  var list = pick.querySelector("[data-chosen]");
  if (!list) { return; }
  list.textContent = "";
  inputs.forEach(function (each) {
    Array.prototype.forEach.call(each.files || [], function (file) {
      var item = document.createElement("li");
      item.className = "file-item";
      if (file.type.indexOf("image/") === 0) {
        var img = document.createElement("img");
        img.className = "thumb";
        img.alt = "";
        img.width = 64;
        img.height = 64;
        img.src = URL.createObjectURL(file);
        item.appendChild(img);
      }
      var name = document.createElement("span");
      name.className = "file-name";
      name.textContent = "고른 파일: " + file.name;
      item.appendChild(name);
      list.appendChild(item);
    });
  });
});

// After an expense is saved in place, the cursor goes back to the top of the new form.
document.addEventListener("htmx:afterSwap", function (event) {
  if (!event.detail.target || event.detail.target.id !== "ledger" || !event.detail.successful) { return; }
  if (event.detail.xhr && event.detail.xhr.status >= 400) { return; }
  if (document.querySelector("[data-error-summary]")) { return; }
  // After 삭제 the message with its 되돌리기; after 저장 or 되돌리기 the form for the next one.
  var path = (event.detail.requestConfig && event.detail.requestConfig.path) || "";
  var undo = /\/delete$/.test(path) && document.querySelector(".undo-box p");
  var next = undo || document.getElementById("form-h");
  if (next) { next.focus({preventScroll: !undo}); }
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

// A confirmation swapped in under its button (정산서 제출, 정산 승인, 심사 제출): read it first.
document.addEventListener("htmx:afterSwap", function (event) {
  if (!event.detail.target) { return; }
  var heading = event.detail.target.querySelector("[data-focus-on-swap]");
  if (heading) { heading.focus(); heading.scrollIntoView({block: "start"}); }
});
