() => {
  const el = document.querySelector('#answer');
  if (!el) return;
  const r = el.getBoundingClientRect();
  if (r.top < 0 || r.top > window.innerHeight - 160) el.scrollIntoView({block: 'start'});
}
