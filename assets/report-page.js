// The report page's script: reads the JSON flowstate wrote into the page and
// draws it with Observable Plot (inlined beside this script). No request leaves
// the page; everything it shows was aggregated when the file was written.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const timeline = data.timeline;

  /** One colour per state, the same in every panel. */
  const COLOURS = {
    LISTEN: '#b0bec5',
    SYN_SENT: '#8e24aa',
    SYN_RECV: '#d81b60',
    ESTABLISHED: '#43a047',
    FIN_WAIT1: '#fb8c00',
    FIN_WAIT2: '#c9a400',
    CLOSE_WAIT: '#e53935',
    CLOSING: '#6d4c41',
    LAST_ACK: '#8d6e63',
    TIME_WAIT: '#1e88e5',
    CLOSED: '#9e9e9e',
    UNKNOWN: '#424242',
  };

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'text') node.textContent = value;
      // Through the CSSOM: the page's policy refuses style attributes (style-src-attr 'none').
      else if (key === 'style') Object.assign(node.style, value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function sqlDetails(sql) {
    return el('details', { class: 'sql' }, el('summary', { text: 'SQL behind this panel' }), el('pre', { text: sql }));
  }

  function section(id, title, ...children) {
    return el('section', { id }, el('h2', { text: title }), ...children);
  }

  const width = () => Math.max(640, Math.min(1130, document.body.clientWidth - 72));

  // ---- header
  const header = el(
    'header',
    {},
    el('h1', { text: `flowstate: ${data.title}` }),
    el('div', { class: 'facts' }, ...data.facts.map(([label, value]) => el('span', {}, `${label} `, el('b', { text: value })))),
    el(
      'nav',
      {},
      ...[
        ['#timeline', 'states over time'],
        ['#pile-ups', 'pile-ups'],
        ['#findings', 'findings'],
        ['#ladders', 'ladders'],
        ['#capture', 'capture'],
      ].map(([href, text]) => el('a', { href, text })),
    ),
  );

  // ---- state timeline
  const groupSelect = el(
    'select',
    { id: 'timeline-group', 'aria-label': 'whose endpoints' },
    ...timeline.groups.map((g, i) => el('option', { value: i, text: g.label })),
  );
  const listenBox = el('input', { type: 'checkbox', id: 'timeline-listen' });
  const closedBox = el('input', { type: 'checkbox', id: 'timeline-closed' });
  const timelineChart = el('div', { id: 'timeline-chart' });
  const timelineEnd = el('p', { id: 'timeline-end', class: 'end-counts' });

  function countsAt(group, states, i) {
    return states.map((s) => [s, group.counts[s][i]]).filter(([, n]) => n > 0);
  }

  /** "CLOSE_WAIT 20 (3 inferred)": a count and how many of it the capture did not show but implied. */
  function countText(group, s, i) {
    const inferred = group.inferred?.[s]?.[i] ?? 0;
    return `${s} ${group.counts[s][i]}${inferred > 0 ? ` (${inferred} inferred)` : ''}`;
  }

  function drawTimeline() {
    const group = timeline.groups[Number(groupSelect.value)];
    const hidden = { LISTEN: !listenBox.checked, CLOSED: !closedBox.checked };
    const shown = timeline.states.filter((s) => group.counts[s] && !hidden[s]);
    const last = timeline.offsets.length - 1;
    // The end in words is netstat's summary: CLOSED is not in it.
    const atEnd = countsAt(
      group,
      timeline.states.filter((s) => group.counts[s] && s !== 'CLOSED'),
      last,
    );
    timelineEnd.textContent = timeline.empty
      ? 'The capture holds no packets.'
      : `At the last packet (${timeline.iso[last]}): ${atEnd.length === 0 ? 'no endpoints' : atEnd.map(([s]) => countText(group, s, last)).join(', ')}.`;
    timelineChart.replaceChildren();
    if (shown.length === 0) {
      timelineChart.append(el('p', { class: 'empty', text: 'No endpoints in the states shown.' }));
      return;
    }
    const long = [];
    const wide = timeline.offsets.map((t, i) => {
      let total = 0;
      for (const s of shown) {
        long.push({ t, state: s, count: group.counts[s][i] });
        total += group.counts[s][i];
      }
      return { t, i, total };
    });
    // A step curve gives the last instant no width: its counts are drawn on for 1 % of the span more.
    const span = timeline.offsets[last] || 1e-6;
    for (const s of shown) long.push({ t: timeline.offsets[last] + span / 100, state: s, count: group.counts[s][last] });
    const tipText = (d) =>
      [
        `+${d.t.toFixed(6)} s  ${timeline.iso[d.i]}`,
        ...shown.filter((s) => group.counts[s][d.i] > 0).map((s) => countText(group, s, d.i)),
        `total ${d.total}`,
      ].join('\n');
    const figure = Plot.plot({
      width: width(),
      height: 340,
      marginLeft: 64,
      x: { label: `seconds after the first packet (${timeline.firstIso})` },
      y: { label: 'endpoints', grid: true },
      color: { domain: shown, range: shown.map((s) => COLOURS[s]), legend: true },
      marks: [
        Plot.areaY(long, { x: 't', y: 'count', z: 'state', fill: 'state', order: shown, curve: 'step-after' }),
        Plot.ruleY([0]),
        Plot.ruleX(wide, Plot.pointerX({ x: 't', stroke: '#333', strokeOpacity: 0.5 })),
        Plot.tip(wide, Plot.pointerX({ x: 't', y: 'total', title: tipText })),
      ],
    });
    // With a legend Plot returns a figure; the chart is its own svg.
    (figure.tagName === 'FIGURE' ? figure.querySelector(':scope > svg') : figure).id = 'timeline-svg';
    timelineChart.append(figure);
  }
  groupSelect.addEventListener('change', drawTimeline);
  listenBox.addEventListener('change', drawTimeline);
  closedBox.addEventListener('change', drawTimeline);

  const timelineSection = section(
    'timeline',
    'Endpoints per TCP state over the capture',
    el(
      'p',
      { class: 'muted' },
      'What `netstat -n | awk` would have counted at each moment, on every host the capture saw (LISTEN and CLOSED on request). Hover for the counts. Counts include inferred states (deduced or assumed, not seen: listeners, a capture begun late, lost segments) and say how many are.',
    ),
    el(
      'div',
      { class: 'controls' },
      groupSelect,
      el('label', {}, listenBox, ' include LISTEN'),
      el('label', {}, closedBox, ' include CLOSED'),
    ),
    el('div', { class: 'panel' }, timelineChart, timelineEnd),
    sqlDetails(data.sql.timeline),
  );

  const drawn = new Set(data.ladders.map((l) => l.id));
  /** A link to a flow's ladder where the page draws it, else the command that shows it. */
  function flowReference(id) {
    return drawn.has(id) ? el('a', { href: `#flow-${id}`, text: `flow ${id}` }) : el('code', { text: `flowstate flow ${id}` });
  }

  // ---- pile-ups
  function sparkline(pile) {
    return Plot.plot({
      width: 180,
      height: 30,
      margin: 1,
      axis: null,
      marks: [
        Plot.areaY(
          pile.counts.map((c, i) => ({ t: timeline.offsets[i], c })),
          { x: 't', y: 'c', fill: COLOURS[pile.state], curve: 'step-after' },
        ),
      ],
    });
  }
  const pileRows = data.pileUps.map((p) =>
    el(
      'tr',
      { 'data-state': p.state },
      el('td', {}, el('span', { class: 'severity', style: { color: COLOURS[p.state] }, text: p.state })),
      el('td', {}, el('code', { text: p.label }), el('span', { class: 'muted', text: ` (${p.role}s)` })),
      el('td', { class: 'num', text: p.peak }),
      el('td', { class: 'num', text: p.peakAt }),
      el('td', { class: 'num', text: p.total }),
      el('td', { class: 'num' }, p.longest + (p.stillOpen ? '+' : ''), ' ', flowReference(p.longestFlow)),
      el('td', { class: 'num', text: p.atEnd }),
      el('td', {}, sparkline(p)),
    ),
  );
  const pileSection = section(
    'pile-ups',
    'TIME_WAIT and CLOSE_WAIT pile-ups',
    el(
      'p',
      { class: 'muted' },
      'Per host and service: a server’s own host:port, or a client host’s connections to one server port. Peak is the most at one time (exact, not sampled); longest with + is still in the state at the last packet.',
    ),
    data.pileUps.length === 0
      ? el('p', { class: 'empty', text: 'No endpoint entered TIME_WAIT or CLOSE_WAIT.' })
      : el(
          'table',
          { id: 'pile-up-table' },
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              ...['state', 'where', 'peak', 'peak at', 'total', 'longest', 'at end', 'over time'].map((h) => el('th', { text: h })),
            ),
          ),
          el('tbody', {}, ...pileRows),
        ),
    sqlDetails(data.sql.pileUps),
  );

  // ---- findings
  const findingArticles = data.findings.map((f) =>
    el(
      'article',
      { class: `finding ${f.severity}`, 'data-kind': f.kind },
      el(
        'h3',
        {},
        el('span', { class: `severity ${f.severity}`, text: f.severity }),
        `${f.kind} `,
        el('span', { class: 'muted', text: `× ${f.count}` }),
      ),
      el('div', { text: f.meaning }),
      el('div', { class: 'remedy' }, el('b', { text: 'What helps: ' }), f.remedy),
      el(
        'ul',
        {},
        ...f.instances.map((i) =>
          el(
            'li',
            {},
            `${i.at} `,
            i.message,
            i.ladders.length > 0
              ? el(
                  'span',
                  {},
                  i.ladders.length === 1 ? ' — ladder: ' : ' — ladders: ',
                  ...i.ladders.flatMap((id, n) => [n > 0 ? ', ' : '', flowReference(id)]),
                )
              : null,
            i.flow === null || i.ladders.length > 0 ? null : el('span', { class: 'muted' }, ' — ', flowReference(i.flow)),
          ),
        ),
        f.count > f.instances.length ? el('li', { class: 'muted', text: `… and ${f.count - f.instances.length} more` }) : null,
      ),
    ),
  );
  const findingSection = section(
    'findings',
    'Findings',
    data.findings.length === 0 ? el('p', { class: 'empty', text: 'No findings.' }) : el('div', {}, ...findingArticles),
    sqlDetails(data.sql.findings),
  );

  // ---- ladders
  function segmentLabel(r) {
    const ack = r.relativeAck === null ? '' : ` ack=${r.relativeAck}`;
    return `${r.flags} seq=${r.relativeSeq}${ack} len=${r.length}${r.retransmission ? ' (retransmission)' : ''}`;
  }

  function drawLadder(ladder) {
    const rows = ladder.rows.map((r, i) => ({ ...r, i }));
    const segments = rows.filter((r) => r.gap === undefined);
    const gaps = rows.filter((r) => r.gap !== undefined);
    const receiverY = (r) => r.i + 0.6;
    const entered = (role) =>
      segments
        .filter((r) => r[`${role}Enters`] !== null)
        .map((r) => ({
          ...r,
          state: r[`${role}Enters`],
          y: (role === 'client') === r.fromClient ? r.i : receiverY(r),
          inferred: r[`${role}Inferred`],
          label: r[`${role}Enters`] + (r[`${role}Inferred`] ? ' (inferred)' : ''),
        }));
    const lane = (fromClient) => (fromClient ? 0 : 1);
    /** The states one side enters, written beside its line: left of the client's, right of the server's. */
    const stateLabels = (role) =>
      Plot.text(entered(role), {
        x: role === 'client' ? 0 : 1,
        y: 'y',
        dx: role === 'client' ? -8 : 8,
        textAnchor: role === 'client' ? 'end' : 'start',
        text: 'label',
        fill: (r) => COLOURS[r.state],
        fontWeight: 'bold',
        stroke: 'white',
        title: (r) => `frame ${r.frame}: ${role} enters ${r.state}${r.inferred ? ' (inferred)' : ''}`,
      });
    return Plot.plot({
      width: Math.min(width(), 900),
      height: 70 + rows.length * 38,
      marginLeft: 150,
      marginTop: 30,
      x: { domain: [-0.55, 1.55], axis: null },
      y: {
        domain: [-0.6, rows.length],
        reverse: true,
        ticks: segments.map((r) => r.i),
        tickFormat: (i) => rows[i] && `${rows[i].at} #${rows[i].frame}`,
        label: null,
      },
      marks: [
        Plot.ruleX([0, 1], { stroke: '#555', strokeWidth: 2 }),
        Plot.text(
          [
            { x: 0, text: 'client' },
            { x: 1, text: 'server' },
          ],
          { x: 'x', y: () => -0.6, text: 'text', fontWeight: 'bold', fontSize: 13 },
        ),
        Plot.arrow(segments, {
          x1: (r) => lane(r.fromClient),
          x2: (r) => lane(!r.fromClient),
          y1: 'i',
          y2: receiverY,
          stroke: (r) => (r.retransmission ? '#d62728' : '#333'),
          strokeDasharray: (r) => (r.retransmission ? '5,3' : null),
          headLength: 8,
        }),
        Plot.text(segments, {
          x: 0.5,
          y: (r) => r.i + 0.3,
          dy: -7,
          text: segmentLabel,
          fontSize: 11,
          fill: (r) => (r.retransmission ? '#d62728' : '#111'),
          title: (r) => `frame ${r.frame}: ${r.fromClient ? 'client → server' : 'server → client'} ${r.flags}`,
        }),
        stateLabels('client'),
        stateLabels('server'),
        Plot.text(gaps, { x: 0.5, y: 'i', text: (g) => `… ${g.gap} segments with no state change …`, fill: '#888', fontStyle: 'italic' }),
      ],
    });
  }

  const ladderArticles = data.ladders.map((ladder) =>
    el(
      'article',
      { class: 'ladder', id: `flow-${ladder.id}` },
      el('h3', { text: ladder.title }),
      el('div', { class: 'lines' }, ...ladder.lines.map((line) => el('div', { text: line }))),
      ladder.rows.length > 0 ? drawLadder(ladder) : el('p', { class: 'empty', text: 'No segments to draw.' }),
      ladder.after.length > 0 ? el('div', { class: 'muted' }, el('b', { text: 'Then: ' }), ladder.after.join('; ')) : null,
      ladder.findings.length > 0 ? el('ul', {}, ...ladder.findings.map((f) => el('li', { text: f }))) : null,
    ),
  );
  const ladderSection = section(
    'ladders',
    'Connections as ladders',
    el(
      'p',
      { class: 'muted' },
      'The flows the findings name (and any asked with --flow): one arrow per captured segment, sequence numbers relative to each side’s first; the state an endpoint enters is written beside its line where it enters it. Dashed red: a retransmission; (inferred): a state the wire does not show directly.',
    ),
    data.ladders.length === 0 ? el('p', { class: 'empty', text: 'No flow is named by a finding; ask for one with --flow ID.' }) : null,
    ...ladderArticles,
    sqlDetails(data.sql.ladders),
  );

  // ---- capture facts
  const columns = data.captures.length > 0 ? Object.keys(data.captures[0]) : [];
  const captureSection = section(
    'capture',
    'The capture',
    el(
      'table',
      {},
      el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', { text: c })))),
      el('tbody', {}, ...data.captures.map((c) => el('tr', {}, ...columns.map((k) => el('td', { text: c[k] }))))),
    ),
    ...data.notes.map((n) => el('p', { class: 'muted', text: n })),
    sqlDetails('SELECT * FROM captures ORDER BY id'),
  );

  document.body.append(header, el('main', {}, timelineSection, pileSection, findingSection, ladderSection, captureSection));
  drawTimeline();
  document.body.dataset.ready = 'true';
})();
