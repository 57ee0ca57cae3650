// The question page's script, in its <head>: the copy-citation buttons of the cards (one listener
// for the page; the citation is in the button's data-citation attribute, escaped like every text
// of the page) and the documents' search box.
document.addEventListener('click', async (event) => {
  const button = event.target && event.target.closest ? event.target.closest('.qa-copy') : null;
  if (!button) return;
  event.preventDefault();
  const citation = button.getAttribute('data-citation') || '';
  let ok = false;
  try { await navigator.clipboard.writeText(citation); ok = true; } catch (e) {
    const area = document.createElement('textarea');
    area.value = citation; area.style.position = 'fixed'; area.style.opacity = '0';
    document.body.appendChild(area); area.select();
    try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
    area.remove();
  }
  if (ok) {
    button.classList.add('qa-copied');
    const before = button.textContent;
    button.textContent = '✓ ' + (button.getAttribute('data-done') || 'Copied');
    setTimeout(() => { button.textContent = before; button.classList.remove('qa-copied'); }, 1500);
  }
});
// the documents' search box: keeps the rows whose file name, bulletin name, regions or article titles
// hold every word typed (NFKC, case-folded, as qa.app.web.render.filter_documents), opens the article lists that
// match, and applies again whenever the table is redrawn (after an upload, a delete, a rebuild)
const qaFold = (s) => (s || '').normalize('NFKC').toLowerCase();
function qaFilterDocs() {
  const box = document.querySelector('#doc-search textarea, #doc-search input');
  const table = document.querySelector('#documents table.qa-docs');
  if (!box || !table) return;
  const words = qaFold(box.value).split(/\s+/).filter(Boolean);
  const has = (el) => words.every((w) => (el.getAttribute('data-search') || '').includes(w));
  let shown = 0;
  table.querySelectorAll('tr.qa-doc-row').forEach((tr) => {
    const ok = has(tr);
    tr.style.display = ok ? '' : 'none';
    if (ok) shown += 1;
    const details = tr.querySelector('details.qa-doc-articles');
    if (!details) return;
    let any = false;
    details.querySelectorAll('li').forEach((li) => {
      const m = words.length > 0 && has(li);
      li.classList.toggle('qa-art-match', m);
      any = any || m;
    });
    if (words.length) details.open = any;
  });
  const none = table.querySelector('tr.qa-docs-nomatch');
  if (none) none.style.display = shown ? 'none' : '';
}
document.addEventListener('input', (e) => {
  if (e.target && e.target.closest && e.target.closest('#doc-search')) qaFilterDocs();
});
let qaDocsTable = null;
new MutationObserver(() => {
  const t = document.querySelector('#documents table.qa-docs');
  if (t && t !== qaDocsTable) { qaDocsTable = t; qaFilterDocs(); }
}).observe(document.documentElement, {subtree: true, childList: true});
// "search without the filters" (a refusal under a filter offers it): the page's hidden button does it
document.addEventListener('click', (event) => {
  const b = event.target && event.target.closest ? event.target.closest('.qa-unfilter') : null;
  if (!b) return;
  event.preventDefault();
  const real = document.querySelector('#qa-unfilter-btn');
  if (real) real.click();
});
// a card folded on a phone: its button shows the whole passage, and folds it again
document.addEventListener('click', (event) => {
  const b = event.target && event.target.closest ? event.target.closest('.qa-expand') : null;
  if (!b) return;
  event.preventDefault();
  const card = b.closest('.qa-card');
  if (!card) return;
  const open = card.classList.toggle('qa-expanded');
  if (!b.dataset.more) b.dataset.more = b.textContent;
  b.textContent = open ? (b.dataset.less || b.dataset.more) : b.dataset.more;
});
