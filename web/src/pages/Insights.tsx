// Segment intelligence and enrichment (issue 19), over the insight and
// enrichment routes (/api/v1/insights/..., /api/v1/segments/{name}/trend|
// differentiators|activate|deactivate, /api/v1/segment-growth,
// /api/v1/enrichments):
// - a segment's Insights tab: overlap with other segments (a Venn diagram for
//   2-3 segments, bars for more, the matrix as a heat table, a breakdown of the
//   shared members), differentiators against all customers or a segment (score
//   bars; a click shows both distributions side by side), the member-count
//   trend over a time scope, activate/deactivate for a dynamic segment;
// - "Find similar customers": options, a preview (quality against a baseline
//   in plain words, similarity bands, drivers), Save as an expansion segment;
// - the Insights page: suggested segments for a target (cards saved with the
//   segment API), RFM groups, the enrichments and a run of them;
// - the customer card's affinities and engagement; the home tiles' growth.
// Every number shown comes from the API; nothing is computed here but layout.
import { FormEvent, ReactNode, useMemo, useState } from 'react';
import { api, enc, Page, Row, SegmentDefinition, SegmentSummary } from '../api';
import { BarChart, ChartXY, DataTable, ErrorBox, LabeledInput, LabeledSelect, LineChart, Loading, Notice } from '../components';
import { canEdit, useMe } from '../me';
import { fmtNum, fmtPct, fmtTime, go, href, useAction, useId, useLoad } from '../util';
import { KeyValues } from './Customers';

type Json = Record<string, unknown>;

// ---- shapes (workspace/insight_service.h, insight/*.h ToJson) ----
export interface InsightAttribute {
  name: string;
  entity?: string;
  field?: string;
  kind: 'numeric' | 'categorical' | string;
  categories?: string[];
}
interface OverlapSegment {
  name: string;
  display_name?: string;
  members: number;
  rest?: number;
}
interface OverlapPair {
  a: string | number;
  b: string | number;
  a_name?: string;
  b_name?: string;
  shared: number;
  share_of_a: number;
  share_of_b: number;
  jaccard?: number;
}
interface OverlapBucket {
  label: string;
  shared: number;
  share?: number;
  shared_share?: number;
}
interface Overlap {
  segments: OverlapSegment[];
  customers?: number;
  pairs: OverlapPair[];
  matrix: number[][];
  all_shared?: number;
  shared_by_all?: number;
  rest?: { name: string; only: number }[];
  breakdown?: { attribute: string; kind?: string; buckets: OverlapBucket[] } | null;
}
interface DistBucket {
  label: string;
  segment_share?: number;
  base_share?: number;
  segment_count?: number;
  base_count?: number;
}
interface Difference {
  attribute?: string;
  name?: string;
  entity?: string;
  field?: string;
  kind: string;
  score: number;
  summary?: string;
  distribution?: DistBucket[] | { bins?: unknown[]; categories?: unknown[]; segment?: number[]; base?: number[] };
  [key: string]: unknown;
}
interface Differentiators {
  segment?: string;
  base?: string;
  segment_members?: number;
  base_members?: number;
  attributes: Difference[];
  skipped?: unknown[];
}
interface TrendPoint {
  at: string;
  members: number;
  run_id?: number;
}
interface Growth {
  members?: number | null;
  week_ago?: number | null;
  change?: number | null;
  change_pct?: number | null;
}
interface Trend {
  segment: string;
  since?: string;
  points: TrendPoint[];
  growth?: Growth | null;
}
export interface GrowthItem {
  name: string;
  display_name?: string;
  type?: string;
  active?: boolean;
  members?: number | null;
  week_ago?: number | null;
  change?: number | null;
}
interface Band {
  band: string;
  from?: number;
  to?: number;
  members?: number;
  pool?: number;
}
interface Expansion {
  segment?: string;
  source?: string;
  pool?: string;
  saved?: boolean;
  members?: number;
  pool_size?: number;
  quality?: { auc?: number | null; baseline_auc?: number | null; baseline_attribute?: string; holdout_source?: number; holdout_pool?: number; verdict?: string };
  bands?: Band[];
  drivers?: { attribute: string; importance: number; summary?: string }[];
  preview?: Row[];
}
interface Suggestion {
  rules_text: string;
  size: number;
  share?: number;
  target_average?: number;
  target_share?: number;
  lift: number;
  p_value?: number;
  adjusted_p_value?: number;
  definition?: Json;
}
interface Suggestions {
  target: string;
  kind: string;
  value?: string;
  population?: { customers?: number; average?: number; share?: number };
  suggestions: Suggestion[];
}
interface RfmGroup {
  name: string;
  key?: string;
  description?: string;
  size: number;
  share?: number;
  average_spend?: number;
  recency_days?: number;
  frequency?: number;
  rules_text?: string;
  definition?: Json | null;
}
interface Rfm {
  as_of?: string;
  as_of_day?: string;
  customers?: number;
  customers_with_transactions?: number;
  groups: RfmGroup[];
  last_date_measure?: string;
  frequency_measure?: string;
  measures_to_add?: (Json & { name: string })[];
}
export interface CardEnrichment {
  name: string;
  display_name?: string;
  kind: string;
  values: { Value?: string; Score?: number; Level?: string }[] | Record<string, unknown>;
}

// ---- helpers ----
/** The attributes list: an array, or an object holding it. */
export function attributeList(x: unknown): InsightAttribute[] {
  if (Array.isArray(x)) return x as InsightAttribute[];
  const o = (x ?? {}) as Json;
  for (const k of ['attributes', 'items']) if (Array.isArray(o[k])) return o[k] as InsightAttribute[];
  return [];
}
export const loadAttributes = () => api.get<unknown>('insights/attributes').then(attributeList);
const attrName = (d: Difference) => String(d.attribute ?? d.name ?? '');

/** A bar of `value` in [0, 1] with its number beside it. */
function ScoreBar({ value, label }: { value: number; label: string }) {
  const pct = Math.max(0, Math.min(1, value)) * 100;
  return (
    <span className="scorebar" role="img" aria-label={`${label} ${value.toFixed(2)}`}>
      <span className="scorebar-fill" style={{ width: `${pct}%` }} />
      <span className="scorebar-text">{value.toFixed(2)}</span>
    </span>
  );
}

/** ▲ 12 / ▼ 3 / no change; "—" when there is no count a week old. */
export function GrowthText({ change, testid }: { change?: number | null; testid?: string }) {
  if (change === null || change === undefined) return <span className="muted small" data-testid={testid}>no count a week old</span>;
  const c = Number(change);
  const cls = c > 0 ? 'growth up' : c < 0 ? 'growth down' : 'growth';
  return (
    <span className={cls} data-testid={testid} aria-label={c === 0 ? 'no change since last week' : `${c > 0 ? 'up' : 'down'} ${Math.abs(c)} since last week`}>
      {c > 0 ? '▲' : c < 0 ? '▼' : '='} {fmtNum(Math.abs(c))}
    </span>
  );
}

// ---- the segment's Insights tab ----
export function SegmentInsights({ name, segment, onChanged }: { name: string; segment?: SegmentSummary & Json; onChanged: () => void }) {
  return (
    <div data-testid="segment-insights">
      <div className="actions row">
        <a className="button primary" href={href('segments', name, 'similar')}>
          Find similar customers
        </a>
        <a className="button" href={href('insights', 'suggested')}>
          Suggested segments
        </a>
      </div>
      <Lifecycle name={name} segment={segment} onChanged={onChanged} />
      <OverlapSection name={name} />
      <DifferentiatorsSection name={name} />
    </div>
  );
}

function Lifecycle({ name, segment, onChanged }: { name: string; segment?: SegmentSummary & Json; onChanged: () => void }) {
  const [days, setDays] = useState('30');
  const trend = useLoad(() => api.get<Trend>(`segments/${enc(name)}/trend`, { days }), [name, days]);
  const growth = useLoad(() => api.get<{ items: GrowthItem[] }>('segment-growth'), [name]);
  const me = useMe();
  const act = useAction();
  const mine = growth.data?.items.find((g) => g.name === name);
  const type = mine?.type ?? segment?.type;
  const active = mine?.active ?? segment?.status === 'active';
  const points = trend.data?.points ?? [];
  const g = trend.data?.growth;
  const toggle = (on: boolean) =>
    act.run(async () => {
      await api.post(`segments/${enc(name)}/${on ? 'activate' : 'deactivate'}`);
      growth.reload();
      onChanged();
    });
  return (
    <section className="card" aria-labelledby="trend-h">
      <h2 id="trend-h">Member count trend</h2>
      <div className="row">
        <LabeledSelect
          label="Time scope"
          value={days}
          onChange={setDays}
          options={[
            { value: '7', label: 'Last 7 days' },
            { value: '30', label: 'Last 30 days' },
            { value: '90', label: 'Last 90 days' },
            { value: '365', label: 'Last 365 days' },
          ]}
        />
        <p data-testid="trend-growth">
          Since last week: <GrowthText change={g?.change} testid="trend-change" />
          {g?.week_ago !== null && g?.week_ago !== undefined ? <span className="muted small"> (was {fmtNum(g.week_ago)})</span> : null}
        </p>
        {type === 'dynamic' ? (
          <p>
            <span className={`badge ${active ? 'ok' : 'warn'}`} data-testid="segment-active">
              {active ? 'active' : 'deactivated'}
            </span>{' '}
            {canEdit(me) ? (
              active ? (
                <button type="button" disabled={act.busy} onClick={() => toggle(false)}>
                  Deactivate
                </button>
              ) : (
                <button type="button" className="primary" disabled={act.busy} onClick={() => toggle(true)}>
                  Activate
                </button>
              )
            ) : null}
          </p>
        ) : null}
      </div>
      <ErrorBox error={act.error} />
      <ErrorBox error={trend.error} />
      {points.length ? (
        <div data-testid="trend-chart">
          <LineChart label={`${name} members, last ${days} days`} labels={points.map((p) => fmtTime(p.at))} values={points.map((p) => Number(p.members))} />
        </div>
      ) : trend.loading ? (
        <Loading what="trend" />
      ) : (
        <p className="muted">No counts in this time scope.</p>
      )}
      <p className="muted small" data-testid="trend-points">
        {points.length} count{points.length === 1 ? '' : 's'}
        {points.length ? `, last ${fmtNum(points[points.length - 1].members)}` : ''}
      </p>
    </section>
  );
}

// ---- overlap ----
function OverlapSection({ name }: { name: string }) {
  const list = useLoad(() => api.get<Page<SegmentSummary>>('segments', { limit: 1000 }), []);
  const attrs = useLoad(loadAttributes, []);
  const [others, setOthers] = useState<string[]>([]);
  const [breakdown, setBreakdown] = useState('');
  const [result, setResult] = useState<Overlap>();
  const act = useAction();
  const candidates = (list.data?.items ?? []).filter((s) => s.name !== name && s.members !== null && s.members !== undefined);
  const toggle = (n: string) => setOthers(others.includes(n) ? others.filter((x) => x !== n) : [...others, n]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    act.run(async () => {
      const body: Json = { segments: [name, ...others] };
      if (breakdown) body.breakdown = breakdown;
      setResult(await api.post<Overlap>('insights/overlap', body));
    });
  };
  return (
    <section className="card" aria-labelledby="overlap-h">
      <h2 id="overlap-h">Overlap with other segments</h2>
      <form onSubmit={submit}>
        <fieldset data-testid="overlap-pick">
          <legend>Compare {name} with</legend>
          {candidates.length === 0 ? <p className="muted small">No other evaluated segment.</p> : null}
          <div className="checks">
            {candidates.map((s) => (
              <Check key={s.name} label={s.name} checked={others.includes(s.name)} onChange={() => toggle(s.name)} />
            ))}
          </div>
        </fieldset>
        <div className="row">
          <LabeledSelect label="Break the shared members down by" value={breakdown} placeholder="No breakdown" onChange={setBreakdown} options={(attrs.data ?? []).map((a) => a.name)} />
          <button type="submit" className="primary" disabled={act.busy || others.length === 0}>
            {act.busy ? 'Comparing…' : 'Show overlap'}
          </button>
        </div>
      </form>
      <ErrorBox error={act.error} />
      {result ? <OverlapView o={result} /> : null}
    </section>
  );
}

function Check({ label, checked, onChange }: { label: string; checked: boolean; onChange: () => void }) {
  const id = useId('chk');
  return (
    <div className="field check">
      <input id={id} type="checkbox" checked={checked} onChange={onChange} />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}

function OverlapView({ o }: { o: Overlap }) {
  const segs = o.segments;
  const nameOf = (x: string | number) => (typeof x === 'number' ? segs[x]?.name : x);
  const allShared = o.all_shared ?? o.shared_by_all;
  const restOf = (i: number) => segs[i].rest ?? o.rest?.find((r) => r.name === segs[i].name)?.only;
  const label = (s: OverlapSegment) => s.display_name || s.name;
  return (
    <div data-testid="overlap-result">
      {segs.length <= 3 ? (
        <Venn o={o} />
      ) : (
        <ChartXY
          testid="overlap-bars"
          kind="bar"
          stacked
          label="Members only in each segment and shared with another"
          series={[
            { label: 'only in this segment', points: segs.map((s, i) => ({ x: s.name, y: Number(restOf(i) ?? 0) })) },
            { label: 'shared with another', points: segs.map((s, i) => ({ x: s.name, y: Number(s.members) - Number(restOf(i) ?? 0) })) },
          ]}
        />
      )}
      <p>
        Members of every segment: <strong data-testid="overlap-all-shared">{fmtNum(allShared)}</strong>
      </p>
      <DataTable
        testid="overlap-pairs"
        rows={o.pairs.map((p) => ({ a: p.a_name ?? nameOf(p.a), b: p.b_name ?? nameOf(p.b), shared: p.shared, 'share of a': p.share_of_a, 'share of b': p.share_of_b }))}
        columns={['a', 'b', 'shared', 'share of a', 'share of b']}
        render={{
          shared: (r) => <span data-testid={`overlap-shared-${r.a}-${r.b}`}>{fmtNum(r.shared)}</span>,
          'share of a': (r) => fmtPct(r['share of a']),
          'share of b': (r) => fmtPct(r['share of b']),
        }}
      />
      <h3>Matrix</h3>
      <div className="table-wrap">
        <table className="heat" data-testid="overlap-matrix">
          <caption className="sr-only">Shared members of each pair; a cell's shade is its share of the row's segment</caption>
          <thead>
            <tr>
              <th scope="col">segment</th>
              {segs.map((s) => (
                <th key={s.name} scope="col">
                  {s.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {segs.map((s, i) => (
              <tr key={s.name}>
                <th scope="row">{label(s)}</th>
                {segs.map((t, j) => {
                  const v = Number(o.matrix?.[i]?.[j] ?? 0);
                  const share = Number(s.members) > 0 ? v / Number(s.members) : 0;
                  return (
                    <td key={t.name} style={{ background: `rgba(37,99,235,${(0.08 + 0.6 * share).toFixed(3)})`, color: share > 0.6 ? '#fff' : undefined }} title={`${fmtPct(share)} of ${s.name}`}>
                      {fmtNum(v)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {o.breakdown ? (
        <>
          <h3>Shared members by {o.breakdown.attribute}</h3>
          <div data-testid="overlap-breakdown">
            <BarChart label={`Shared members by ${o.breakdown.attribute}`} labels={o.breakdown.buckets.map((b) => b.label)} values={o.breakdown.buckets.map((b) => Number(b.shared))} />
          </div>
          <DataTable rows={o.breakdown.buckets.map((b) => ({ [o.breakdown!.attribute]: b.label, shared: b.shared, share: fmtPct(b.share ?? b.shared_share) }))} />
        </>
      ) : null}
    </div>
  );
}

/** Area of the lens of two circles of radii r1, r2 at distance d. */
function lens(r1: number, r2: number, d: number): number {
  if (d >= r1 + r2) return 0;
  if (d <= Math.abs(r1 - r2)) return Math.PI * Math.min(r1, r2) ** 2;
  const a = r1 * r1 * Math.acos((d * d + r1 * r1 - r2 * r2) / (2 * d * r1));
  const b = r2 * r2 * Math.acos((d * d + r2 * r2 - r1 * r1) / (2 * d * r2));
  const c = 0.5 * Math.sqrt((-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2));
  return a + b - c;
}
/** The distance at which two circles' lens has `area` (bisection; the lens shrinks as d grows). */
function distanceFor(r1: number, r2: number, area: number): number {
  let lo = Math.abs(r1 - r2);
  let hi = r1 + r2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (lens(r1, r2, mid) > area) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

const VENN_COLORS = ['#2563eb', '#f97316', '#16a34a'];

/** Area-proportional circles for 2 or 3 segments (3: pairwise distances exact, the triple region approximate). */
function Venn({ o }: { o: Overlap }) {
  const segs = o.segments;
  const W = 420;
  const H = 260;
  const geometry = useMemo(() => {
    const max = Math.max(1, ...segs.map((s) => Number(s.members)));
    const scale = 90 / Math.sqrt(max);
    const r = segs.map((s) => Math.max(6, Math.sqrt(Number(s.members)) * scale));
    const area = (n: number) => n * scale * scale * Math.PI;
    const d = (i: number, j: number) => distanceFor(r[i], r[j], area(Number(o.matrix?.[i]?.[j] ?? 0)));
    const pts: [number, number][] = [[0, 0]];
    const dab = d(0, 1);
    pts.push([dab, 0]);
    if (segs.length === 3) {
      const dac = d(0, 2);
      const dbc = d(1, 2);
      const x = dab > 0 ? (dac * dac - dbc * dbc + dab * dab) / (2 * dab) : 0;
      const y = Math.sqrt(Math.max(0, dac * dac - x * x));
      pts.push([x, y]);
    }
    const minX = Math.min(...pts.map((p, i) => p[0] - r[i]));
    const maxX = Math.max(...pts.map((p, i) => p[0] + r[i]));
    const minY = Math.min(...pts.map((p, i) => p[1] - r[i]));
    const maxY = Math.max(...pts.map((p, i) => p[1] + r[i]));
    const k = Math.min((W - 20) / Math.max(1, maxX - minX), (H - 20) / Math.max(1, maxY - minY), 1.4);
    return pts.map((p, i) => ({ cx: 10 + (p[0] - minX) * k, cy: 10 + (p[1] - minY) * k, r: r[i] * k }));
  }, [o]); // eslint-disable-line react-hooks/exhaustive-deps
  const desc = o.pairs.map((p) => `${typeof p.a === 'number' ? segs[p.a]?.name : p.a} and ${typeof p.b === 'number' ? segs[p.b]?.name : p.b} share ${p.shared}`).join('; ');
  return (
    <figure className="venn" data-testid="overlap-venn">
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" style={{ maxWidth: W }} role="img" aria-label={`Overlap of ${segs.map((s) => `${s.name} (${s.members})`).join(', ')}: ${desc}`}>
        {geometry.map((g, i) => (
          <circle key={i} cx={g.cx} cy={g.cy} r={g.r} fill={VENN_COLORS[i]} fillOpacity={0.28} stroke={VENN_COLORS[i]} strokeWidth={2} />
        ))}
      </svg>
      <figcaption>
        <ul className="legend">
          {segs.map((s, i) => (
            <li key={s.name}>
              <span className="swatch" style={{ background: VENN_COLORS[i] }} /> {s.display_name || s.name}: {fmtNum(s.members)} members
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}

// ---- differentiators ----
function DifferentiatorsSection({ name }: { name: string }) {
  const list = useLoad(() => api.get<Page<SegmentSummary>>('segments', { limit: 1000 }), []);
  const [base, setBase] = useState('');
  const d = useLoad(() => api.get<Differentiators>(`segments/${enc(name)}/differentiators`, { base, limit: 30 }), [name, base]);
  const [picked, setPicked] = useState<string>();
  const attrs = d.data?.attributes ?? [];
  const chosen = attrs.find((a) => attrName(a) === picked) ?? attrs[0];
  return (
    <section className="card" aria-labelledby="diff-h">
      <h2 id="diff-h">What sets this segment apart</h2>
      <LabeledSelect
        label="Compared with"
        value={base}
        onChange={(v) => {
          setBase(v);
          setPicked(undefined);
        }}
        options={[
          { value: '', label: 'Customers outside the segment' },
          { value: 'all', label: 'All customers' },
          ...(list.data?.items ?? []).filter((s) => s.name !== name && s.name !== 'all' && s.name !== 'rest').map((s) => ({ value: s.name, label: `Segment ${s.display_name || s.name}` })),
        ]}
      />
      <ErrorBox error={d.error} />
      {d.loading && !d.data ? <Loading what="differentiators" /> : null}
      {d.data ? (
        <p className="muted small" data-testid="diff-sizes">
          {fmtNum(d.data.segment_members)} members against {fmtNum(d.data.base_members)} ({d.data.base || base || 'rest of customers'})
        </p>
      ) : null}
      <div className="grid2">
        <ol className="ranked" data-testid="differentiators">
          {attrs.map((a) => (
            <li key={attrName(a)}>
              <button type="button" className={`ranked-item ${chosen && attrName(chosen) === attrName(a) ? 'selected' : ''}`} aria-pressed={!!chosen && attrName(chosen) === attrName(a)} onClick={() => setPicked(attrName(a))}>
                <span className="ranked-name">{attrName(a)}</span> <ScoreBar value={Number(a.score)} label="score" />
                <span className="muted small ranked-summary">{a.summary}</span>
              </button>
            </li>
          ))}
        </ol>
        <div>{chosen ? <Distribution a={chosen} segment={name} base={d.data?.base || (base === 'all' ? 'all customers' : base || 'rest of customers')} /> : null}</div>
      </div>
    </section>
  );
}

/** Both sides' distributions on shared buckets: histogram bars (numbers) or grouped bars (categories), as shares. */
function Distribution({ a, segment, base }: { a: Difference; segment: string; base: string }) {
  let labels: string[] = [];
  let seg: number[] = [];
  let bas: number[] = [];
  const dist = a.distribution;
  if (Array.isArray(dist)) {
    labels = dist.map((b) => b.label);
    seg = dist.map((b) => Number(b.segment_share ?? 0));
    bas = dist.map((b) => Number(b.base_share ?? 0));
  } else if (dist) {
    labels = ((dist.bins ?? dist.categories ?? []) as unknown[]).map(String);
    seg = (dist.segment ?? []).map(Number);
    bas = (dist.base ?? []).map(Number);
  }
  const numeric = a.kind === 'numeric';
  return (
    <div data-testid="diff-distribution">
      <h3>
        {attrName(a)} <span className="muted small">({numeric ? 'histogram' : 'categories'}, share of each side)</span>
      </h3>
      {a.summary ? <p data-testid="diff-summary">{a.summary}</p> : null}
      <ChartXY
        kind="bar"
        label={`${attrName(a)}: ${segment} against ${base}`}
        yTitle="share"
        series={[
          { label: segment, points: labels.map((l, i) => ({ x: l, y: seg[i] ?? 0 })) },
          { label: base, points: labels.map((l, i) => ({ x: l, y: bas[i] ?? 0 })), reference: true },
        ]}
      />
    </div>
  );
}

// ---- Find similar customers ----
export function FindSimilar({ source }: { source: string }) {
  const list = useLoad(() => api.get<Page<SegmentSummary>>('segments', { limit: 1000 }), []);
  const [pool, setPool] = useState('');
  const [mode, setMode] = useState<'share' | 'threshold'>('share');
  const [share, setShare] = useState('20');
  const [threshold, setThreshold] = useState('0.7');
  const [includeSource, setIncludeSource] = useState(false);
  const [output, setOutput] = useState(`${source}_Similar`);
  const [displayName, setDisplayName] = useState('');
  const [preview, setPreview] = useState<Expansion>();
  const act = useAction();
  const modeId = useId('mode');
  const body = (save: boolean): Json => {
    const b: Json = { source, output, include_source: includeSource, save };
    if (pool) b.pool = pool;
    if (displayName) b.display_name = displayName;
    if (mode === 'share') b.share = Number(share) / 100;
    else b.min_similarity = Number(threshold);
    return b;
  };
  const run = (save: boolean) =>
    act.run(async () => {
      const r = await api.post<Expansion>('insights/expand', body(save));
      if (save) go('segments', r.segment ?? output);
      else setPreview(r);
    });
  const q = preview?.quality;
  return (
    <>
      <div className="page-head">
        <h1>Find customers similar to {source}</h1>
        <div className="actions">
          <a className="button" href={href('segments', source)}>
            Back to {source}
          </a>
        </div>
      </div>
      <form
        className="card narrow-form"
        onSubmit={(e) => {
          e.preventDefault();
          run(false);
        }}
      >
        <LabeledSelect
          label="Look among"
          value={pool}
          onChange={setPool}
          options={[{ value: '', label: 'All customers outside the segment' }, ...(list.data?.items ?? []).filter((s) => s.name !== source).map((s) => ({ value: s.name, label: `Segment ${s.display_name || s.name}` }))]}
        />
        <fieldset>
          <legend>How many</legend>
          <div className="row">
            <div className="field check">
              <input id={modeId + '-share'} type="radio" name={modeId} checked={mode === 'share'} onChange={() => setMode('share')} />
              <label htmlFor={modeId + '-share'}>A share of the pool</label>
            </div>
            <div className="field check">
              <input id={modeId + '-thr'} type="radio" name={modeId} checked={mode === 'threshold'} onChange={() => setMode('threshold')} />
              <label htmlFor={modeId + '-thr'}>Everyone above a similarity</label>
            </div>
          </div>
          {mode === 'share' ? (
            <LabeledInput label="Share of the pool (%)" type="number" value={share} onChange={setShare} width="12rem" />
          ) : (
            <LabeledInput label="Minimum similarity (0.4–0.99)" type="number" value={threshold} onChange={setThreshold} width="12rem" />
          )}
        </fieldset>
        <Check label="Include the segment's own members" checked={includeSource} onChange={() => setIncludeSource(!includeSource)} />
        <LabeledInput label="New segment name" value={output} onChange={setOutput} />
        <LabeledInput label="Display name" value={displayName} onChange={setDisplayName} />
        <ErrorBox error={act.error} />
        <div className="row">
          <button type="submit" disabled={act.busy}>
            {act.busy && !preview ? 'Training…' : 'Preview'}
          </button>
          <button type="button" className="primary" disabled={act.busy || !preview} onClick={() => run(true)}>
            Save as segment
          </button>
        </div>
        {!preview ? <p className="muted small">Preview first: it trains the model and shows whether “similar” means something here.</p> : null}
      </form>
      {preview ? (
        <div data-testid="similar-preview">
          <div className="tiles">
            <section className="tile" aria-label="Similar customers">
              <div className="tile-label">Similar customers</div>
              <div className="tile-value" data-testid="similar-members">
                {fmtNum(preview.members)}
              </div>
              <div className="muted small">of {fmtNum(preview.pool_size)} in the pool</div>
            </section>
            <section className="tile" aria-label="Model quality">
              <div className="tile-label">Quality (AUC on held-back members)</div>
              <div className="tile-value" data-testid="similar-auc">
                {q?.auc !== null && q?.auc !== undefined ? Number(q.auc).toFixed(3) : '—'}
              </div>
              <div className="muted small">
                baseline {q?.baseline_auc !== null && q?.baseline_auc !== undefined ? Number(q.baseline_auc).toFixed(3) : '—'}
                {q?.baseline_attribute ? ` (${q.baseline_attribute} alone)` : ''}
              </div>
            </section>
          </div>
          <Notice>
            <span data-testid="similar-verdict">{verdictText(q)}</span>
          </Notice>
          <div className="grid2">
            <section className="card" aria-labelledby="bands-h">
              <h2 id="bands-h">Similarity bands</h2>
              <div data-testid="similar-bands">
                <BarChart label="Customers per similarity band" labels={(preview.bands ?? []).map((b) => `${b.band} (${b.from ?? ''}–${b.to ?? ''})`)} values={(preview.bands ?? []).map((b) => Number(b.members ?? 0))} />
              </div>
              <DataTable rows={(preview.bands ?? []).map((b) => ({ band: b.band, from: b.from, to: b.to, members: b.members }))} />
            </section>
            <section className="card" aria-labelledby="drivers-h">
              <h2 id="drivers-h">What drives similarity</h2>
              <div data-testid="similar-drivers">
                <BarChart horizontal label="Importance of each attribute" labels={(preview.drivers ?? []).slice(0, 10).map((d) => d.attribute)} values={(preview.drivers ?? []).slice(0, 10).map((d) => Number(d.importance))} />
              </div>
              <ul className="small">
                {(preview.drivers ?? [])
                  .filter((d) => d.summary)
                  .slice(0, 5)
                  .map((d) => (
                    <li key={d.attribute}>{d.summary}</li>
                  ))}
              </ul>
            </section>
          </div>
          {preview.preview?.length ? (
            <section aria-labelledby="top-h">
              <h2 id="top-h">Most similar customers</h2>
              <DataTable rows={preview.preview} render={{ CustomerId: (r) => <a href={href('customers', String(r.CustomerId))}>{String(r.CustomerId)}</a> }} />
            </section>
          ) : null}
        </div>
      ) : null}
    </>
  );
}

/** The quality in plain words: the API's verdict, with the AUC against the baseline's. */
function verdictText(q: Expansion['quality']): string {
  if (!q || q.auc === null || q.auc === undefined) return q?.verdict ?? 'The model could not be graded.';
  const auc = Number(q.auc);
  const base = q.baseline_auc === null || q.baseline_auc === undefined ? undefined : Number(q.baseline_auc);
  const plain =
    auc >= 0.8 ? 'The model tells the segment’s members from the pool well' : auc >= 0.65 ? 'The model tells members from the pool somewhat' : 'The model barely tells members from the pool: “similar” means little here';
  const vs = base !== undefined ? (auc > base + 0.02 ? `, better than the baseline (${base.toFixed(2)})` : `, no better than the baseline (${base.toFixed(2)})`) : '';
  return `${q.verdict ? `${q.verdict[0].toUpperCase()}${q.verdict.slice(1)}. ` : ''}${plain} (AUC ${auc.toFixed(2)}${vs}).`;
}

// ---- the Insights page: suggested segments, RFM, enrichments ----
export function InsightsPage({ rest }: { rest: string[] }) {
  const tab = rest[0] ?? 'suggested';
  return (
    <>
      <div className="page-head">
        <h1>Insights</h1>
      </div>
      <nav className="tabs" aria-label="Insights">
        <a className="button" href={href('insights', 'suggested')} aria-current={tab === 'suggested' ? 'page' : undefined}>
          Suggested segments
        </a>
        <a className="button" href={href('insights', 'rfm')} aria-current={tab === 'rfm' ? 'page' : undefined}>
          RFM groups
        </a>
        <a className="button" href={href('insights', 'enrichments')} aria-current={tab === 'enrichments' ? 'page' : undefined}>
          Enrichments
        </a>
      </nav>
      {tab === 'rfm' ? <RfmTab /> : tab === 'enrichments' ? <EnrichmentsTab /> : <SuggestTab />}
    </>
  );
}

function SuggestTab() {
  const attrs = useLoad(loadAttributes, []);
  const usable = (attrs.data ?? []).filter((a) => a.kind === 'numeric' || (a.kind === 'categorical' && (a.categories?.length ?? 99) <= 10));
  const [target, setTarget] = useState('');
  const [value, setValue] = useState('');
  const [minLift, setMinLift] = useState('1.2');
  const [minShare, setMinShare] = useState('1');
  const [max, setMax] = useState('10');
  const [result, setResult] = useState<Suggestions>();
  const act = useAction();
  const t = usable.find((a) => a.name === target);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    act.run(async () => {
      const body: Json = { target, min_lift: Number(minLift), min_share: Number(minShare) / 100, max_suggestions: Number(max) };
      if (t?.kind === 'categorical' && value) body.value = value;
      setResult(await api.post<Suggestions>('insights/suggest', body));
    });
  };
  const pop = result?.population;
  return (
    <>
      <form className="card" onSubmit={submit}>
        <p className="muted small">Groups of customers whose target differs from the population’s, as rules over profile fields and measures.</p>
        <ErrorBox error={attrs.error} />
        <div className="row">
          <LabeledSelect
            label="Target"
            value={target}
            placeholder="Choose…"
            onChange={(v) => {
              setTarget(v);
              setValue('');
            }}
            options={usable.map((a) => ({ value: a.name, label: `${a.name} (${a.kind})` }))}
          />
          {t?.kind === 'categorical' ? <LabeledSelect label="Value" value={value} placeholder="Choose…" onChange={setValue} options={t.categories ?? []} /> : null}
          <LabeledInput label="Minimum lift" type="number" value={minLift} onChange={setMinLift} width="9rem" />
          <LabeledInput label="Smallest group (% of customers)" type="number" value={minShare} onChange={setMinShare} width="14rem" />
          <LabeledInput label="Suggestions" type="number" value={max} onChange={setMax} width="8rem" />
        </div>
        <button type="submit" className="primary" disabled={act.busy || !target || (t?.kind === 'categorical' && !value)}>
          {act.busy ? 'Searching…' : 'Suggest segments'}
        </button>
      </form>
      <ErrorBox error={act.error} />
      {result ? (
        <>
          <p data-testid="suggest-population">
            Population: {fmtNum(pop?.customers)} customers, {result.kind === 'categorical' ? `${result.value ?? ''} share ${fmtPct(pop?.share)}` : `average ${fmtNum(pop?.average)}`}.{' '}
            <span data-testid="suggest-count">{result.suggestions.length}</span> suggestion{result.suggestions.length === 1 ? '' : 's'}.
          </p>
          <div className="cards" data-testid="suggestions">
            {result.suggestions.map((s, i) => (
              <SuggestionCard key={i} index={i} s={s} result={result} />
            ))}
          </div>
        </>
      ) : null}
    </>
  );
}

function SaveDefinition({ definition, defaultName, testid }: { definition: Json; defaultName: string; testid?: string }) {
  const [name, setName] = useState(defaultName);
  const save = useAction();
  const me = useMe();
  if (!canEdit(me)) return null;
  return (
    <div className="row" data-testid={testid}>
      <LabeledInput label="Segment name" value={name} onChange={setName} />
      <button
        type="button"
        className="primary"
        disabled={save.busy || !name}
        onClick={() =>
          save.run(async () => {
            await api.send('POST /api/v1/segments', 'segments', { ...definition, name } as SegmentDefinition);
            go('segments', name);
          })
        }
      >
        Save as segment
      </button>
      <ErrorBox error={save.error} />
    </div>
  );
}

function SuggestionCard({ s, index, result }: { s: Suggestion; index: number; result: Suggestions }) {
  const categorical = result.kind === 'categorical';
  const pop = result.population;
  return (
    <section className="card suggestion" aria-label={`Suggestion ${index + 1}`} data-testid={`suggestion-${index}`}>
      <h3 data-testid="suggestion-rules">{s.rules_text}</h3>
      <dl className="kv">
        <div>
          <dt>Size</dt>
          <dd data-testid="suggestion-size">
            {fmtNum(s.size)} <span className="muted small">({fmtPct(s.share)})</span>
          </dd>
        </div>
        <div>
          <dt>{categorical ? `Share of ${result.value ?? 'the value'}` : `Average ${result.target}`}</dt>
          <dd>
            {categorical ? fmtPct(s.target_share) : fmtNum(s.target_average)} <span className="muted small">vs {categorical ? fmtPct(pop?.share) : fmtNum(pop?.average)} overall</span>
          </dd>
        </div>
        <div>
          <dt>Lift</dt>
          <dd data-testid="suggestion-lift">×{Number(s.lift).toFixed(2)}</dd>
        </div>
        {s.adjusted_p_value !== undefined || s.p_value !== undefined ? (
          <div>
            <dt>p-value</dt>
            <dd>{Number(s.adjusted_p_value ?? s.p_value).toExponential(1)}</dd>
          </div>
        ) : null}
      </dl>
      {s.definition ? <SaveDefinition definition={s.definition} defaultName={`Suggested${result.target.replace(/[^A-Za-z0-9_]/g, '')}${index + 1}`} /> : null}
    </section>
  );
}

function RfmTab() {
  const measures = useLoad(() => api.get<{ items: { name: string }[] }>('measures'), []);
  const [lastDate, setLastDate] = useState('');
  const [frequency, setFrequency] = useState('');
  const rfm = useLoad(() => api.get<Rfm>('insights/rfm', { last_date_measure: lastDate, frequency_measure: frequency }), [lastDate, frequency]);
  const r = rfm.data;
  const names = (measures.data?.items ?? []).map((m) => m.name);
  const act = useAction();
  // The measures a saved group's rules need, added through the measures API.
  const addMeasures = async () => {
    const done = await act.run(async () => {
      for (const m of r?.measures_to_add ?? []) await api.post('measures', m);
      return true;
    });
    if (done) {
      measures.reload();
      rfm.reload();
    }
  };
  return (
    <>
      <div className="row">
        <LabeledSelect label="Last purchase measure (for saving groups)" value={lastDate} placeholder="Found by what it computes" onChange={setLastDate} options={names} />
        <LabeledSelect label="Purchase count measure (for saving groups)" value={frequency} placeholder="Found by what it computes" onChange={setFrequency} options={names} />
      </div>
      {r?.measures_to_add?.length ? (
        <div className="card" data-testid="rfm-measures-to-add">
          <p className="small">
            To save these groups as segments, the project needs measures of each customer&apos;s last transaction and number of
            transactions over these activities: {r.measures_to_add.map((m) => m.name).join(' and ')}.
          </p>
          <button type="button" onClick={addMeasures} disabled={act.busy}>
            {act.busy ? 'Adding and computing…' : 'Add these measures'}
          </button>
          <ErrorBox error={act.error} />
        </div>
      ) : r?.last_date_measure ? (
        <p className="muted small" data-testid="rfm-measures">
          Saved groups use the measures {r.last_date_measure} and {r.frequency_measure}.
        </p>
      ) : null}
      <ErrorBox error={rfm.error} />
      {rfm.loading && !r ? <Loading what="RFM groups" /> : null}
      {r ? (
        <>
          <p className="muted" data-testid="rfm-summary">
            Recency, frequency and monetary quintiles of {fmtNum(r.customers_with_transactions)} customers with transactions, as of {r.as_of ?? r.as_of_day ?? '—'}.
          </p>
          <div data-testid="rfm-chart">
            <BarChart label="Customers per RFM group" labels={r.groups.map((g) => g.name)} values={r.groups.map((g) => Number(g.size))} />
          </div>
          <div className="cards" data-testid="rfm-groups">
            {r.groups.map((g) => (
              <section key={g.name} className="card" aria-label={g.name} data-testid={`rfm-${g.key ?? g.name}`}>
                <h3>
                  {g.name} <span className="muted small" data-testid="rfm-size">{fmtNum(g.size)}</span> <span className="muted small">({fmtPct(g.share)})</span>
                </h3>
                {g.description ? <p className="small">{g.description}</p> : null}
                <p className="small muted">
                  average spend {fmtNum(g.average_spend)} · last purchase {fmtNum(g.recency_days, 0)} days ago · {fmtNum(g.frequency, 1)} purchases
                </p>
                {g.rules_text ? <p className="small">{g.rules_text}</p> : null}
                {g.definition ? <SaveDefinition definition={g.definition} defaultName={`Rfm${(g.key ?? g.name).replace(/[^A-Za-z0-9_]/g, '')}`} /> : null}
              </section>
            ))}
          </div>
        </>
      ) : null}
    </>
  );
}

interface EnrichmentInfo {
  name: string;
  display_name?: string;
  kind: string;
  output_entity?: string;
  rows?: number;
  customers?: number;
  computed?: boolean;
  details?: unknown;
}

function EnrichmentsTab() {
  const list = useLoad(() => api.get<{ items: EnrichmentInfo[] }>('enrichments'), []);
  const run = useAction();
  const me = useMe();
  const [msg, setMsg] = useState<string>();
  return (
    <>
      <div className="row">
        {canEdit(me) ? (
          <button
            type="button"
            className="primary"
            disabled={run.busy || !list.data?.items.length}
            onClick={() =>
              run.run(async () => {
                const r = await api.post<{ items: EnrichmentInfo[] }>('enrichments/run', {});
                setMsg(`Ran ${r.items.length} enrichment(s): ${r.items.map((x) => `${x.name} ${fmtNum(x.customers)} customers`).join(', ')}.`);
                list.reload();
              })
            }
          >
            {run.busy ? 'Running…' : 'Run enrichments now'}
          </button>
        ) : null}
      </div>
      {msg ? <Notice>{msg}</Notice> : null}
      <ErrorBox error={run.error} />
      <ErrorBox error={list.error} />
      <DataTable
        testid="enrichments-table"
        rows={(list.data?.items ?? []) as unknown as Row[]}
        columns={['name', 'display_name', 'kind', 'output_entity', 'rows', 'computed']}
        empty="The project has no enrichments (enrichments: in project.yaml)."
        render={{
          output_entity: (r) => (r.output_entity ? <a href={href('data', String(r.output_entity))}>{String(r.output_entity)}</a> : ''),
          computed: (r) => (r.computed ? 'yes' : 'not yet'),
        }}
      />
    </>
  );
}

// ---- the customer card ----
const LEVEL_CLASS: Record<string, string> = { 'Very high': 'ok', High: 'ok', Medium: 'neutral', Low: 'warn' };

export function CardEnrichments({ enrichments }: { enrichments: CardEnrichment[] }) {
  if (!enrichments.length) return null;
  return (
    <section className="card" aria-labelledby="enrich-h" data-testid="card-enrichments">
      <h2 id="enrich-h">Affinities and engagement</h2>
      {enrichments.map((e) => (
        <div key={e.name} data-testid={`card-enrichment-${e.name}`}>
          <h3>
            {e.display_name || e.name} <span className="muted small">{e.kind}</span>
          </h3>
          <EnrichmentValues e={e} />
        </div>
      ))}
    </section>
  );
}

function EnrichmentValues({ e }: { e: CardEnrichment }): ReactNode {
  if (Array.isArray(e.values)) {
    if (!e.values.length) return <p className="muted small">No affinity.</p>;
    return (
      <ul className="chips" data-testid="card-affinities">
        {e.values.map((v, i) => (
          <li key={i} className="chip" data-testid="affinity">
            {String(v.Value ?? '')} <span className={`badge ${LEVEL_CLASS[String(v.Level)] ?? 'neutral'}`}>{String(v.Level ?? '')}</span>{' '}
            <span className="muted small">{fmtNum(v.Score, 0)}</span>
          </li>
        ))}
      </ul>
    );
  }
  const v = e.values ?? {};
  if ('EngagementScore' in v) {
    const { EngagementScore, EngagementLevel, ...rest } = v as Record<string, unknown>;
    const score = Number(EngagementScore);
    return (
      <>
        <p>
          Engagement <strong data-testid="card-engagement-score">{fmtNum(score, 0)}</strong> / 100{' '}
          <span className={`badge ${LEVEL_CLASS[String(EngagementLevel)] ?? 'neutral'}`} data-testid="card-engagement-level">
            {String(EngagementLevel ?? '')}
          </span>
        </p>
        <div className="gauge" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={score} aria-label="Engagement score">
          <div className="gauge-fill" style={{ width: `${Math.max(0, Math.min(100, score))}%` }} />
        </div>
        <details>
          <summary>Contributions</summary>
          <KeyValues obj={rest} />
        </details>
      </>
    );
  }
  return <KeyValues obj={v as Record<string, unknown>} />;
}

