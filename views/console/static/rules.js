/*
 * The rule tester's form (views/console/rules.ejs): shows only the fields of the chosen kind. Without
 * this script every field shows and the form still works.
 */
'use strict';
(function ruleTesterForm() {
  const form = document.getElementById('rule-tester');
  if (!form) return;
  function show() {
    const chosen = form.querySelector('input[name="kind"]:checked');
    const kind = chosen ? chosen.value : 'text';
    for (const el of form.querySelectorAll('[data-kind]')) el.hidden = !el.getAttribute('data-kind').split(' ').includes(kind);
  }
  form.addEventListener('change', show);
  show();
})();
