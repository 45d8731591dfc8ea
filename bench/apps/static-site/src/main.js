import './style.css';
import { releases } from './releases.js';

function render(list) {
  const main = document.getElementById('notes');
  main.innerHTML = '';
  for (const r of list) {
    const section = document.createElement('section');
    const h2 = document.createElement('h2');
    h2.textContent = `${r.version} (${r.date})`;
    section.appendChild(h2);
    const ul = document.createElement('ul');
    for (const change of r.changes) {
      const li = document.createElement('li');
      li.textContent = change;
      ul.appendChild(li);
    }
    section.appendChild(ul);
    main.appendChild(section);
  }
}

// A link like /v/2.0.0 shows one release: serve -s answers every path with index.html.
const match = location.pathname.match(/^\/v\/(.+)$/);
render(match ? releases.filter((r) => r.version === match[1]) : releases);
