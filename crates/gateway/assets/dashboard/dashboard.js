// The Verbund dashboard: plain JavaScript, no framework, no file from elsewhere. It reads
// what the caller's token may read: statistics from /api/v1/statistics (the same protected
// or exact figures as the API), the caller and the insights lists from /graphql. Every text
// from the server is put in with textContent, never parsed as HTML.
'use strict';

(() => {
  const TEXT = {
    de: {
      skip: 'Zum Inhalt springen',
      title: 'Menschen stärken Menschen – Programm-Dashboard',
      signIn: 'Anmelden',
      signOut: 'Abmelden',
      signInTitle: 'Anmelden',
      signInHelp: 'Ohne Anmeldung sehen Sie die öffentliche, geschützte Statistik. Mit einem Token Ihrer Organisation oder Ihres Netzwerks sehen Sie, was Ihre Rolle lesen darf.',
      tokenLabel: 'Token (JWT)',
      tokenRefused: 'Das Token wurde nicht angenommen: ',
      glance: 'Auf einen Blick',
      legendTitle: 'Zeichen',
      legendSuppressed: 'Zahlenwert geheim zu halten: eine kleine Fallzahl (weniger als k) oder eine Zelle, aus der sich eine kleine Fallzahl zurückrechnen ließe. Er ist nicht null.',
      footer: 'Verbund – Daten aus /api/v1, geschützt wie dort.',
      place: 'Ebene',
      federal: 'Bund',
      loading: 'Lädt …',
      loaded: 'Aktualisiert.',
      failed: 'Nicht geladen: ',
      anonymous: 'Öffentliche Ansicht (nicht angemeldet)',
      signedInAs: 'Angemeldet als',
      protectedView: (k) => `Geschützte Ansicht: Zellen unter ${k} und Zellen, die sie verraten würden, sind geheim gehalten („.“).`,
      exactView: 'Exakte Zahlen.',
      chart: 'Diagramm',
      table: 'Tabelle',
      download: 'Herunterladen',
      view: 'Ansicht',
      total: 'Insgesamt',
      mentorships: 'Patenschaften insgesamt',
      activeAt: (d) => `Aktiv am ${d}`,
      startedAll: 'Begonnen (alle Jahre)',
      endedAll: 'Beendet (alle Jahre)',
      perYear: 'Patenschaften je Jahr',
      perMonth: 'Aktive Patenschaften, letzte zwölf Monate',
      perMonthNote: 'Bestand am Ende jedes Monats.',
      month: 'Monat',
      perYearNote: 'Begonnen und beendet im Jahr; aktiv am Jahresende (im laufenden Jahr am letzten Monatsende).',
      started: 'Begonnen',
      ended: 'Beendet',
      active: 'Aktiv am Jahresende',
      year: 'Jahr',
      byState: 'Patenschaften nach Land',
      byRegion: 'Patenschaften nach Region',
      byGeoNote: 'Nach Anzahl geordnet. Ein Land oder eine Region in der Tabelle öffnen, um tiefer zu sehen.',
      open: (name) => `${name} öffnen`,
      code: 'Code',
      name: 'Name',
      count: 'Anzahl',
      byTarget: 'Patenschaften nach Zielgruppe',
      targetGroup: 'Zielgruppe',
      funding: 'Förderung von außen',
      fundingNote: 'Von Fördergebern außerhalb des Netzwerks bewilligte Mittel (Weitergaben innerhalb des Netzwerks nicht doppelt).',
      amount: 'Betrag',
      grants: 'Bewilligungen',
      contingents: 'Kontingente: zugesagt und begonnen',
      contingentsNote: 'Je Kontingent die zugesagten und die tatsächlich begonnenen Patenschaften.',
      programme: 'Programm',
      organisation: 'Organisation',
      promised: 'Zugesagt',
      startedSoFar: 'Begonnen',
      shortfall: 'Fehlend',
      insights: 'Hinweise',
      overlaps: 'Parallelstrukturen (gleiche Region, Kategorie und Zielgruppe)',
      region: 'Region',
      category: 'Kategorie',
      offerings: 'Angebote',
      overload: 'Organisationen mit zu vielen Patenschaften je Koordinationskraft',
      coordinators: 'Koordinationskräfte',
      activeMentorships: 'Aktive Patenschaften',
      perCoordinator: 'Je Kraft',
      overloadedVolunteers: (n) => `Ehrenamtliche über ihrer Kapazität: ${n}`,
      ending: 'Förderungen, die bald enden, ohne Anschluss',
      endsOn: 'Endet am',
      daysLeft: 'Tage',
      none: 'Keine Einträge (oder für Ihre Rolle nicht sichtbar).',
      suppressed: 'geheim gehalten',
      summary: (title, parts) => `${title}: ${parts}`,
      roles: {
        federal_admin: 'Bundesverband (Administration)',
        state_coordinator: 'Landeskoordination',
        regional_coordinator: 'Regionalkoordination',
        org_admin: 'Organisation (Administration)',
        org_member: 'Organisation',
        ministry_analyst: 'Ministerium (Auswertung)',
        anonymous: 'Öffentlichkeit',
      },
    },
    en: {
      skip: 'Skip to content',
      title: 'Menschen stärken Menschen – programme dashboard',
      signIn: 'Sign in',
      signOut: 'Sign out',
      signInTitle: 'Sign in',
      signInHelp: 'Without signing in you see the public, protected statistics. With a token of your organisation or network you see what your role may read.',
      tokenLabel: 'Token (JWT)',
      tokenRefused: 'The token was not accepted: ',
      glance: 'At a glance',
      legendTitle: 'Symbols',
      legendSuppressed: 'Value kept secret: a small count (below k) or a cell from which a small count could be recomputed. It is not zero.',
      footer: 'Verbund – figures from /api/v1, protected as there.',
      place: 'Level',
      federal: 'Federal',
      loading: 'Loading …',
      loaded: 'Updated.',
      failed: 'Not loaded: ',
      anonymous: 'Public view (not signed in)',
      signedInAs: 'Signed in as',
      protectedView: (k) => `Protected view: cells below ${k} and cells that would give them away are kept secret (“.”).`,
      exactView: 'Exact figures.',
      chart: 'Chart',
      table: 'Table',
      download: 'Download',
      view: 'View',
      total: 'Total',
      mentorships: 'Mentorships in all',
      activeAt: (d) => `Active on ${d}`,
      startedAll: 'Started (all years)',
      endedAll: 'Ended (all years)',
      perYear: 'Mentorships per year',
      perMonth: 'Active mentorships, last twelve months',
      perMonthNote: 'The stock at the end of each month.',
      month: 'Month',
      perYearNote: 'Started and ended in the year; active at the end of the year (this year: at the last month end).',
      started: 'Started',
      ended: 'Ended',
      active: 'Active at year end',
      year: 'Year',
      byState: 'Mentorships by state',
      byRegion: 'Mentorships by region',
      byGeoNote: 'Ranked by count. Open a state or region in the table to look deeper.',
      open: (name) => `Open ${name}`,
      code: 'Code',
      name: 'Name',
      count: 'Count',
      byTarget: 'Mentorships by target group',
      targetGroup: 'Target group',
      funding: 'Funding from outside',
      fundingNote: 'Granted by funders outside the network (money passed on inside the network is not counted twice).',
      amount: 'Amount',
      grants: 'Grants',
      contingents: 'Contingents: promised and started',
      contingentsNote: 'Per contingent the mentorships promised and those actually started.',
      programme: 'Programme',
      organisation: 'Organisation',
      promised: 'Promised',
      startedSoFar: 'Started',
      shortfall: 'Missing',
      insights: 'Insights',
      overlaps: 'Parallel structures (same region, category and target group)',
      region: 'Region',
      category: 'Category',
      offerings: 'Offerings',
      overload: 'Organisations with too many mentorships per coordinator',
      coordinators: 'Coordinators',
      activeMentorships: 'Active mentorships',
      perCoordinator: 'Per coordinator',
      overloadedVolunteers: (n) => `Volunteers above their capacity: ${n}`,
      ending: 'Fundings ending soon with no follow-up',
      endsOn: 'Ends on',
      daysLeft: 'Days',
      none: 'No entries (or not visible to your role).',
      suppressed: 'kept secret',
      summary: (title, parts) => `${title}: ${parts}`,
      roles: {
        federal_admin: 'federal association (administration)',
        state_coordinator: 'state coordination',
        regional_coordinator: 'regional coordination',
        org_admin: 'organisation (administration)',
        org_member: 'organisation',
        ministry_analyst: 'ministry (analysis)',
        anonymous: 'public',
      },
    },
  };
  const REASONS = {
    small_count: { de: 'kleine Fallzahl (unter k)', en: 'small count (below k)' },
    protects_line: { de: 'schützt eine Zelle derselben Zeile oder Spalte', en: 'protects a cell of the same row or column' },
    protects_system: { de: 'schützt eine Zelle über alle Summen hinweg', en: 'protects a cell across all totals' },
    protects_linked_measures: { de: 'schützt eine Zelle einer verbundenen Kennzahl', en: 'protects a cell of a linked measure' },
    protects_from_insider: { de: 'schützt vor Rückrechnung durch Beteiligte', en: 'protects against insiders subtracting their own records' },
    earlier_release: { de: 'in einer früheren Veröffentlichung geheim gehalten', en: 'kept secret in an earlier release' },
    protects_interval: { de: 'schützt den Wertebereich einer geheimen Zelle', en: "protects a secret cell's range" },
  };

  let lang = localStorage.getItem('verbund.lang') === 'en' ? 'en' : 'de';
  let token = sessionStorage.getItem('verbund.token') || '';
  let me = null;
  let trail = [];
  let data = null;
  let generation = 0;

  const $ = (id) => document.getElementById(id);
  const t = (key, ...args) => {
    const v = TEXT[lang][key] ?? TEXT.de[key] ?? key;
    return typeof v === 'function' ? v(...args) : v;
  };
  const locale = () => (lang === 'de' ? 'de-DE' : 'en-GB');
  const fmt = (n) => new Intl.NumberFormat(locale()).format(n);
  const euros = (cents) =>
    new Intl.NumberFormat(locale(), { style: 'currency', currency: 'EUR', maximumFractionDigits: 0 }).format(cents / 100);
  const date = (iso) => new Date(`${iso}T00:00:00Z`).toLocaleDateString(locale(), { timeZone: 'UTC' });

  /** An element with attributes, properties and children; text only as text nodes. */
  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      // Through the CSS object model: the page's policy allows no style attribute.
      else if (k === 'style') Object.assign(e.style, v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  const headers = () => (token ? { authorization: `Bearer ${token}` } : {});

  class Refused extends Error {
    constructor(status, problem) {
      super(problem?.detail || problem?.title || `HTTP ${status}`);
      this.status = status;
    }
  }

  async function api(path) {
    const r = await fetch(path, { headers: headers() });
    if (!r.ok) {
      let problem = null;
      try { problem = await r.json(); } catch { /* not JSON */ }
      throw new Refused(r.status, problem);
    }
    return r.json();
  }

  async function gql(query, variables = {}) {
    const r = await fetch('/graphql', {
      method: 'POST',
      headers: { ...headers(), 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok || body.errors?.length) {
      throw new Refused(r.status, { detail: body.errors?.[0]?.message });
    }
    return body.data;
  }

  /** Where the caller looks: the last network drilled into, else the role's own. */
  function place() {
    if (trail.length) return trail[trail.length - 1];
    if (me?.network) return { id: me.network.uuid, name: me.network.name, level: me.network.level };
    return { id: null, name: t('federal'), level: 'federal' };
  }

  const geoGroup = (level) => ({ federal: 'state', state: 'region' })[level] ?? null;

  /** The address of a statistic at the current place. */
  function statUrl(measure, params = {}, format = null) {
    const q = new URLSearchParams();
    const p = place();
    if (p.id) q.set('network', p.id);
    for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
    if (format) q.set('format', format);
    const s = q.toString();
    return `/api/v1/statistics/${measure}${s ? `?${s}` : ''}`;
  }

  const stat = (measure, params) =>
    api(statUrl(measure, params)).then((table) => ({ measure, params, table }));

  /** The last day of the month `back` months before the last complete one. */
  function monthEnd(back = 0) {
    const now = new Date();
    return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 0)).toISOString().slice(0, 10);
  }

  const INSIGHTS = `query Insights($network: ID) {
    overlaps(network: $network, first: 20) {
      category targetGroups
      region { name code }
      offeringA { name organisation { name } }
      offeringB { name organisation { name } }
    }
    overload(first: 20) {
      limitPerCoordinator
      volunteers { current }
      organisations { organisation { name } activeMentorships coordinators perCoordinator }
    }
    fundingRisks(withinDays: 90, first: 20) {
      ending { endsOn daysLeft funding { programme organisation { name } } }
      contingents { promised started shortfall funding { programme organisation { name } } }
    }
  }`;

  async function signIn(candidate) {
    const saved = token;
    token = candidate;
    try {
      const d = await gql('{ me { role subject network { uuid name level code } organisation { name } } }');
      me = d.me;
      if (candidate) sessionStorage.setItem('verbund.token', candidate);
      else sessionStorage.removeItem('verbund.token');
      trail = [];
      return true;
    } catch (e) {
      token = saved;
      $('signin-error').textContent = t('tokenRefused') + e.message;
      return false;
    }
  }

  async function load() {
    const mine = ++generation;
    $('status').textContent = t('loading');
    const p = place();
    const geo = geoGroup(p.level);
    const last = monthEnd();
    try {
      const [started, ended, total, active, geoTable, target, funding, insights] = await Promise.all([
        stat('mentorships_started', { groupBy: 'year' }),
        stat('mentorships_ended', { groupBy: 'year' }),
        stat('mentorships', {}),
        // The last twelve month ends in one request (a series of stocks).
        stat('mentorships_active', { activeAt: monthEnd(11), activeTo: last }),
        geo ? stat('mentorships', { groupBy: geo }) : null,
        stat('mentorships', { groupBy: 'target_group' }),
        stat('funding', { groupBy: geo ?? '' }),
        gql(INSIGHTS, { network: p.id }).catch(() => null),
      ]);
      const years = [...new Set([...started.table.rows, ...ended.table.rows].map((r) => r.keys[0].value))].sort();
      const yearEnds = years.map((y) => (`${y}-12-31` < last ? `${y}-12-31` : last));
      const activeByYear = await Promise.all(yearEnds.map((d) => stat('mentorships_active', { activeAt: d })));
      if (mine !== generation) return;
      data = { p, geo, monthEnd: last, started, ended, total, active, geoTable, target, funding, insights, years, activeByYear };
      render();
      $('status').textContent = t('loaded');
    } catch (e) {
      if (mine !== generation) return;
      $('status').textContent = t('failed') + e.message;
    }
  }

  // ---- drawing -------------------------------------------------------------------------

  const keyName = (k) => (lang === 'de' ? k.labelDe ?? k.label : k.label ?? k.labelDe) ?? k.value;

  /** A count (or amount) cell's content: the number, or the symbol and why it is hidden. */
  function figure(row, pick = (r) => r.count, show = fmt) {
    if (!row) return { text: fmt(0), value: 0 };
    if (row.suppressed) {
      const why = REASONS[row.suppressionReason]?.[lang] ?? row.suppressionReason ?? '';
      return { suppressed: true, why };
    }
    const v = pick(row) ?? 0;
    return { text: show(v), value: v };
  }

  function figureNode(f) {
    if (f.suppressed) {
      return [
        el('span', { class: 'sup', 'aria-hidden': 'true', title: f.why, text: '.' }),
        el('span', { class: 'sr', text: `${t('suppressed')} (${f.why})` }),
      ];
    }
    return [f.text];
  }

  /**
   * A card: a chart (bars per row, one per series) and the same figures as a table, with
   * downloads of the statistics it shows.
   *   rows: [{ label, code?, open?, cells: [figure per series] }]
   */
  function card({ id, title, note, series, rows, columns, sources, protectedNote }) {
    const max = Math.max(1, ...rows.flatMap((r) => r.cells.map((c) => (c.suppressed ? 0 : c.value))));
    const chartPart = el(
      'div',
      {
        class: 'chart',
        role: 'img',
        'aria-label': t('summary', title, rows
          .map((r) => `${r.label}: ${r.cells.map((c, i) => `${series.length > 1 ? `${series[i]} ` : ''}${c.suppressed ? t('suppressed') : c.text}`).join(', ')}`)
          .join('; ')),
      },
      rows.map((r) => [
        el('span', { class: 'lbl', text: r.code ? `${r.label} (${r.code})` : r.label, onclick: r.open }),
        el('span', { class: 'track' }, r.cells.map((c, i) =>
          el('span', {
            class: `bar s${i}${c.suppressed ? ' hidden' : ''}`,
            style: c.suppressed ? undefined : { width: `${(100 * c.value) / max}%` },
          }))),
        el('span', { class: 'val' }, r.cells.map((c, i) => [i ? ' / ' : '', ...figureNode(c)])),
      ]),
    );
    const table = el('table', { 'data-card': id },
      el('caption', { text: title }),
      el('thead', {}, el('tr', {}, columns.map((c, i) => el('th', { scope: 'col', class: i >= columns.length - series.length ? 'num' : undefined, text: c })))),
      el('tbody', {}, rows.map((r) => el('tr', {},
        el('th', { scope: 'row' }, r.open ? el('button', { type: 'button', onclick: r.open, 'aria-label': t('open', r.label) }, r.label) : r.label),
        columns.length - series.length > 1 ? el('td', { text: r.code ?? '' }) : null,
        r.cells.map((c) => el('td', {
          class: 'num',
          'data-value': c.suppressed ? 'suppressed' : String(c.value),
        }, figureNode(c)))))),
    );
    const tableWrap = el('div', { class: 'tablewrap', hidden: true }, table);
    const chartBtn = el('button', { type: 'button', 'aria-pressed': 'true', text: t('chart') });
    const tableBtn = el('button', { type: 'button', 'aria-pressed': 'false', text: t('table') });
    const show = (asTable) => {
      chartPart.hidden = asTable;
      tableWrap.hidden = !asTable;
      chartBtn.setAttribute('aria-pressed', String(!asTable));
      tableBtn.setAttribute('aria-pressed', String(asTable));
    };
    chartBtn.addEventListener('click', () => show(false));
    tableBtn.addEventListener('click', () => show(true));
    const legend = series.length > 1
      ? el('ul', { class: 'series' }, series.map((s, i) => el('li', {}, el('span', { class: `sw s${i}`, 'aria-hidden': 'true' }), s)))
      : null;
    return el('section', { class: 'card', id, 'aria-labelledby': `${id}-title` },
      el('h2', { id: `${id}-title`, text: title }),
      note ? el('p', { class: 'note', text: note }) : null,
      protectedNote ? el('p', { class: 'note', text: protectedNote }) : null,
      el('div', { class: 'views', role: 'group', 'aria-label': t('view') }, chartBtn, tableBtn),
      legend,
      rows.length ? [chartPart, tableWrap] : el('p', { class: 'empty', text: t('none') }),
      downloads(sources),
    );
  }

  function downloads(sources) {
    return el('div', { class: 'dl' },
      el('span', { text: `${t('download')}:` }),
      sources.map(({ label, measure, params }) => ['csv', 'xlsx', 'json'].map((format) =>
        el('button', {
          type: 'button',
          'data-format': format,
          'aria-label': `${t('download')} ${label} ${format.toUpperCase()}`,
          onclick: () => save(statUrl(measure, params, format), `${measure}.${format}`),
        }, `${sources.length > 1 ? `${label} ` : ''}${format.toUpperCase()}`))));
  }

  async function save(url, name) {
    try {
      const r = await fetch(url, { headers: headers() });
      if (!r.ok) throw new Refused(r.status, await r.json().catch(() => null));
      const href = URL.createObjectURL(await r.blob());
      const a = el('a', { href, download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(href), 10000);
    } catch (e) {
      $('status').textContent = t('failed') + e.message;
    }
  }

  function viewNote(table) {
    return table.protected ? t('protectedView', table.k) : t('exactView');
  }

  function listTable(caption, columns, rows) {
    if (!rows.length) return el('div', {}, el('h3', { text: caption }), el('p', { class: 'empty', text: t('none') }));
    return el('div', { class: 'tablewrap' }, el('table', {},
      el('caption', { text: caption }),
      el('thead', {}, el('tr', {}, columns.map(([c, num]) => el('th', { scope: 'col', class: num ? 'num' : undefined, text: c })))),
      el('tbody', {}, rows.map((r) => el('tr', {}, r.map((v, i) => el('td', { class: columns[i][1] ? 'num' : undefined, text: v })))))));
  }

  function render() {
    const d = data;
    if (!d) return;
    const figures = $('figures');
    const kpi = (label, f) => el('div', {}, el('dt', { text: label }),
      el('dd', { 'data-value': f.suppressed ? 'suppressed' : String(f.value) }, figureNode(f)));
    figures.replaceChildren(
      kpi(t('mentorships'), figure(d.total.table.total)),
      kpi(t('activeAt', date(d.monthEnd)), figure(d.active.table.total)),
      kpi(t('startedAll'), figure(d.started.table.total)),
      kpi(t('endedAll'), figure(d.ended.table.total)),
    );

    const cards = [];
    const byYear = (table, y) => table.rows.find((r) => r.keys[0].value === y);
    cards.push(card({
      id: 'per-year',
      title: t('perYear'),
      note: t('perYearNote'),
      protectedNote: viewNote(d.started.table),
      series: [t('started'), t('ended'), t('active')],
      columns: [t('year'), t('started'), t('ended'), t('active')],
      rows: d.years.map((y, i) => ({
        label: y,
        cells: [
          figure(byYear(d.started.table, y)),
          figure(byYear(d.ended.table, y)),
          d.activeByYear[i] ? figure(d.activeByYear[i].table.total) : figure(null),
        ],
      })),
      sources: [
        { label: t('started'), measure: 'mentorships_started', params: { groupBy: 'year' } },
        { label: t('ended'), measure: 'mentorships_ended', params: { groupBy: 'year' } },
      ],
    }));

    cards.push(card({
      id: 'per-month',
      title: t('perMonth'),
      note: t('perMonthNote'),
      protectedNote: viewNote(d.active.table),
      series: [t('count')],
      columns: [t('month'), t('count')],
      rows: d.active.table.rows.map((r) => ({ label: r.keys[0].value, cells: [figure(r)] })),
      sources: [{ label: t('count'), measure: 'mentorships_active', params: d.active.params }],
    }));
    if (d.geoTable) {
      const rows = [...d.geoTable.table.rows].sort((a, b) =>
        (a.suppressed - b.suppressed) || ((b.count ?? 0) - (a.count ?? 0)) || keyName(a.keys[0]).localeCompare(keyName(b.keys[0])));
      const own = (code) => (d.geo === 'state' ? /^DE-/.test(code ?? '') : /^\d/.test(code ?? ''));
      cards.push(card({
        id: 'by-geo',
        title: d.geo === 'state' ? t('byState') : t('byRegion'),
        note: t('byGeoNote'),
        protectedNote: viewNote(d.geoTable.table),
        series: [t('count')],
        columns: [t('name'), t('code'), t('count')],
        rows: rows.map((r) => {
          const k = r.keys[0];
          const label = keyName(k);
          return {
            label,
            code: k.code,
            cells: [figure(r)],
            open: own(k.code)
              ? () => { trail.push({ id: k.value, name: label, level: d.geo === 'state' ? 'state' : 'regional' }); refresh(); }
              : null,
          };
        }),
        sources: [{ label: t('count'), measure: 'mentorships', params: { groupBy: d.geo } }],
      }));
    }

    cards.push(card({
      id: 'by-target',
      title: t('byTarget'),
      protectedNote: viewNote(d.target.table),
      series: [t('count')],
      columns: [t('targetGroup'), t('count')],
      rows: d.target.table.rows.map((r) => ({ label: keyName(r.keys[0]), cells: [figure(r)] })),
      sources: [{ label: t('count'), measure: 'mentorships', params: { groupBy: 'target_group' } }],
    }));

    const fundingRows = d.geo ? d.funding.table.rows : [d.funding.table.total];
    cards.push(card({
      id: 'funding',
      title: t('funding'),
      note: t('fundingNote'),
      protectedNote: viewNote(d.funding.table),
      series: [t('amount')],
      columns: [t('name'), t('code'), t('amount')],
      rows: fundingRows.map((r) => ({
        label: r.keys.length ? keyName(r.keys[0]) : t('total'),
        code: r.keys[0]?.code ?? null,
        cells: [figure(r, (x) => x.amount, euros)],
      })),
      sources: [{ label: t('amount'), measure: 'funding', params: { groupBy: d.geo ?? '' } }],
    }));

    const ins = d.insights;
    const contingents = ins?.fundingRisks?.contingents ?? [];
    if (contingents.length) {
      cards.push(el('section', { class: 'card', id: 'contingents', 'aria-labelledby': 'contingents-title' },
        el('h2', { id: 'contingents-title', text: t('contingents') }),
        el('p', { class: 'note', text: t('contingentsNote') }),
        listTable(t('contingents'),
          [[t('programme')], [t('organisation')], [t('promised'), 1], [t('startedSoFar'), 1], [t('shortfall'), 1]],
          contingents.map((c) => [c.funding.programme, c.funding.organisation?.name ?? '', fmt(c.promised), fmt(c.started), fmt(c.shortfall)]))));
    }

    const overlaps = ins?.overlaps ?? [];
    const overload = ins?.overload;
    const ending = ins?.fundingRisks?.ending ?? [];
    cards.push(el('section', { class: 'card', id: 'insights', 'aria-labelledby': 'insights-title' },
      el('h2', { id: 'insights-title', text: t('insights') }),
      listTable(t('overlaps'), [[t('region')], [t('category')], [t('offerings')]],
        overlaps.map((o) => [
          o.region ? `${o.region.name} (${o.region.code})` : '',
          o.category,
          [o.offeringA, o.offeringB].map((x) => (x ? `${x.name} (${x.organisation?.name ?? ''})` : '')).join(' · '),
        ])),
      listTable(t('overload'),
        [[t('organisation')], [t('activeMentorships'), 1], [t('coordinators'), 1], [t('perCoordinator'), 1]],
        (overload?.organisations ?? []).map((o) => [
          o.organisation.name, fmt(o.activeMentorships), fmt(o.coordinators),
          o.perCoordinator === null ? '–' : fmt(Math.round(o.perCoordinator * 10) / 10)])),
      overload?.volunteers?.length ? el('p', { text: t('overloadedVolunteers', overload.volunteers.length) }) : null,
      listTable(t('ending'), [[t('programme')], [t('organisation')], [t('endsOn')], [t('daysLeft'), 1]],
        ending.map((e) => [e.funding.programme, e.funding.organisation?.name ?? '', date(e.endsOn), fmt(e.daysLeft)])),
    ));

    $('cards').replaceChildren(...cards);
    renderChrome();
  }

  /** What does not depend on the figures: the texts, who is signed in, where one is. */
  function renderChrome() {
    document.documentElement.lang = lang;
    for (const e of document.querySelectorAll('[data-t]')) e.textContent = t(e.dataset.t);
    const other = lang === 'de' ? 'en' : 'de';
    const langBtn = $('lang');
    langBtn.textContent = other === 'en' ? 'English' : 'Deutsch';
    langBtn.setAttribute('lang', other);
    const role = me?.role ?? 'anonymous';
    const roleName = TEXT[lang].roles[role] ?? role;
    const where = me?.network?.name ?? me?.organisation?.name;
    $('who').textContent = role === 'anonymous'
      ? t('anonymous')
      : `${t('signedInAs')} ${roleName}${where ? ` – ${where}` : ''}`;
    $('signout').hidden = !token;
    $('signin').hidden = !!token;
    const nav = $('place');
    nav.setAttribute('aria-label', t('place'));
    const root = me?.network ? { id: me.network.uuid, name: me.network.name, level: me.network.level } : { id: null, name: t('federal'), level: 'federal' };
    const crumbs = [root, ...trail];
    nav.replaceChildren(el('ol', {}, crumbs.map((c, i) => el('li', {},
      i === crumbs.length - 1
        ? el('span', { 'aria-current': 'page', text: c.name })
        : el('button', { type: 'button', onclick: () => { trail = trail.slice(0, i); refresh(); } }, c.name)))));
  }

  function refresh() {
    renderChrome();
    load();
    $('main').focus();
  }

  document.addEventListener('DOMContentLoaded', async () => {
    $('lang').addEventListener('click', () => {
      lang = lang === 'de' ? 'en' : 'de';
      localStorage.setItem('verbund.lang', lang);
      renderChrome();
      render();
    });
    $('signin-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      $('signin-error').textContent = '';
      const candidate = $('token').value.trim();
      if (await signIn(candidate)) {
        $('token').value = '';
        refresh();
      }
    });
    $('signout').addEventListener('click', async () => {
      sessionStorage.removeItem('verbund.token');
      await signIn('');
      refresh();
    });
    if (!(await signIn(token))) await signIn('');
    renderChrome();
    load();
  });
})();
