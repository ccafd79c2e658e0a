/*
 * The Overview page's chart: grants, sends, claims and refunds per hour (Beijing time), drawn with
 * chart.js (served from the bot: /console/static/vendor/) from GET /console/api/overview/activity.
 * The range links (24 h / 7 days) redraw without a reload. When drawn, the canvas gets
 * data-drawn="<range>" (the browser tests wait for it).
 */
'use strict';
(function overviewChart() {
  const canvas = document.getElementById('activity-chart');
  if (!canvas || typeof Chart === 'undefined') return;
  const SERIES = [
    ['grants', '#1677ff'],
    ['sends', '#07c160'],
    ['claims', '#fa8c16'],
    ['refunds', '#cf1322'],
  ];

  function datasets(buckets) {
    return SERIES.map(([key, color]) => ({
      key,
      label: canvas.dataset['label' + key[0].toUpperCase() + key.slice(1)] || key,
      data: buckets.map((b) => b[key]),
      borderColor: color,
      backgroundColor: color,
      tension: 0.2,
    }));
  }

  function draw(range, buckets) {
    const data = { labels: buckets.map((b) => b.label), datasets: datasets(buckets) };
    const existing = Chart.getChart(canvas);
    if (existing) {
      existing.data = data;
      existing.update();
    } else {
      new Chart(canvas, {
        type: 'line',
        data,
        options: { animation: false, interaction: { mode: 'index', intersect: false }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      });
    }
    canvas.dataset.drawn = range;
  }

  async function load(range) {
    delete canvas.dataset.drawn;
    const res = await window.wechatBotConsole.getJson('/console/api/overview/activity?range=' + encodeURIComponent(range));
    if (res.status === 401) return location.assign('/console/login');
    if (res.status === 200) draw(range, res.body.buckets);
  }

  for (const link of document.querySelectorAll('a[data-range]')) {
    link.addEventListener('click', (event) => {
      event.preventDefault();
      for (const other of document.querySelectorAll('a[data-range]')) other.removeAttribute('aria-current');
      link.setAttribute('aria-current', 'true');
      load(link.dataset.range);
    });
  }
  load(canvas.dataset.range || '24h');
})();
