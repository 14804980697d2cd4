import { ReactNode, useEffect, useRef } from 'react';
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  ChartConfiguration,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { errText, fmtCell, useId } from './util';

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend, Filler);

export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      {title ? <strong>{title}: </strong> : null}
      {errText(error)}
    </div>
  );
}

export function Loading({ what }: { what?: string }) {
  return (
    <p className="muted" role="status">
      Loading{what ? ` ${what}` : ''}…
    </p>
  );
}

export function Notice({ children }: { children: ReactNode }) {
  return (
    <div className="notice" role="status">
      {children}
    </div>
  );
}

export function Tile({ label, value, children, testid }: { label: string; value: ReactNode; children?: ReactNode; testid?: string }) {
  return (
    <section className="tile" aria-label={label} data-testid={testid}>
      <div className="tile-label">{label}</div>
      <div className="tile-value">{value}</div>
      {children}
    </section>
  );
}

/** A table of rows; columns default to the union of the rows' keys. */
export function DataTable({
  rows,
  columns,
  caption,
  render,
  empty = 'Nothing to show.',
  testid,
}: {
  rows: Record<string, unknown>[];
  columns?: string[];
  caption?: string;
  render?: Record<string, (row: Record<string, unknown>) => ReactNode>;
  empty?: string;
  testid?: string;
}) {
  const cols =
    columns ??
    Array.from(
      rows.reduce((s, r) => {
        Object.keys(r).forEach((k) => s.add(k));
        return s;
      }, new Set<string>()),
    );
  if (!rows.length) return <p className="muted">{empty}</p>;
  return (
    <div className="table-wrap">
      <table data-testid={testid}>
        {caption ? <caption>{caption}</caption> : null}
        <thead>
          <tr>
            {cols.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {cols.map((c) => (
                <td key={c}>{render?.[c] ? render[c](r) : fmtCell(r[c])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function LineChart({
  labels,
  values,
  label,
  height = 220,
  small = false,
}: {
  labels: string[];
  values: number[];
  label: string;
  height?: number;
  small?: boolean;
}) {
  return (
    <ChartCanvas
      label={`${label}: ${values.length ? values.join(', ') : 'no data'}`}
      height={small ? 48 : height}
      config={{
        type: 'line',
        data: {
          labels,
          datasets: [
            {
              label,
              data: values,
              borderColor: '#2563eb',
              backgroundColor: 'rgba(37,99,235,0.12)',
              fill: true,
              tension: 0.25,
              pointRadius: small ? 0 : 3,
              borderWidth: 2,
            },
          ],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: false }, tooltip: { enabled: !small } },
          scales: small ? { x: { display: false }, y: { display: false } } : { y: { beginAtZero: true } },
        },
      }}
    />
  );
}

export function BarChart({ labels, values, label, height = 220, horizontal = false }: { labels: string[]; values: number[]; label: string; height?: number; horizontal?: boolean }) {
  return (
    <ChartCanvas
      label={`${label}: ${labels.map((l, i) => `${l} ${values[i]}`).join('; ')}`}
      height={height}
      config={{
        type: 'bar',
        data: { labels, datasets: [{ label, data: values, backgroundColor: '#60a5fa', borderColor: '#2563eb', borderWidth: 1 }] },
        options: {
          indexAxis: horizontal ? 'y' : 'x',
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true } },
        },
      }}
    />
  );
}

/** One series of a ChartXY: points (x, y), drawn as bars (categorical x) or a line. */
export interface Series {
  label: string;
  points: { x: number | string; y: number }[];
  /** A reference line (a baseline, the diagonal): dashed, no fill. */
  reference?: boolean;
}

const SERIES_COLORS = ['#2563eb', '#f97316', '#16a34a', '#9333ea', '#dc2626', '#0891b2'];

/**
 * Several series on one chart: bars over categories (`kind` bar, stacked if
 * asked) or lines over a numeric x axis (`kind` line). The canvas's label
 * lists every value, so the chart is readable without seeing it.
 */
export function ChartXY({
  series,
  label,
  kind,
  height = 240,
  stacked = false,
  xTitle,
  yTitle,
  testid,
}: {
  series: Series[];
  label: string;
  kind: 'bar' | 'line';
  height?: number;
  stacked?: boolean;
  xTitle?: string;
  yTitle?: string;
  testid?: string;
}) {
  const round = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(3));
  const text = series.map((s) => `${s.label}: ${s.points.map((p) => `${typeof p.x === 'number' ? round(p.x) : p.x} ${round(p.y)}`).join(', ')}`).join('; ');
  const title = (t?: string) => (t ? { display: true, text: t } : { display: false });
  const config: ChartConfiguration =
    kind === 'bar'
      ? {
          type: 'bar',
          data: {
            labels: series[0]?.points.map((p) => String(p.x)) ?? [],
            datasets: series.map((s, i) => ({
              label: s.label,
              data: s.points.map((p) => p.y),
              backgroundColor: SERIES_COLORS[i % SERIES_COLORS.length] + (s.reference ? '55' : 'aa'),
              borderColor: SERIES_COLORS[i % SERIES_COLORS.length],
              borderWidth: 1,
            })),
          },
          options: {
            responsive: true,
            maintainAspectRatio: false,
            animation: false,
            plugins: { legend: { display: series.length > 1 } },
            scales: { x: { stacked, title: title(xTitle) }, y: { stacked, beginAtZero: true, title: title(yTitle) } },
          },
        }
      : {
          type: 'line',
          data: {
            datasets: series.map((s, i) => ({
              label: s.label,
              data: s.points.map((p) => ({ x: Number(p.x), y: p.y })),
              borderColor: SERIES_COLORS[i % SERIES_COLORS.length],
              backgroundColor: SERIES_COLORS[i % SERIES_COLORS.length],
              borderDash: s.reference ? [6, 4] : undefined,
              pointRadius: s.reference ? 0 : 3,
              borderWidth: 2,
              fill: false,
              tension: 0,
            })),
          },
          options: {
            responsive: true,
            maintainAspectRatio: false,
            animation: false,
            plugins: { legend: { display: series.length > 1 } },
            scales: { x: { type: 'linear', title: title(xTitle) }, y: { beginAtZero: true, title: title(yTitle) } },
          },
        };
  return (
    <div data-testid={testid}>
      <ChartCanvas label={`${label}. ${text}`} height={height} config={config} />
    </div>
  );
}

function ChartCanvas({ config, label, height }: { config: ChartConfiguration; label: string; height: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const key = JSON.stringify(config.data);
  useEffect(() => {
    if (!ref.current) return;
    const chart = new Chart(ref.current, config);
    return () => chart.destroy();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return (
    <div className="chart" style={{ height }}>
      <canvas ref={ref} role="img" aria-label={label} />
    </div>
  );
}

/** <label for> + control, so every control has a visible label. */
export function LabeledInput(props: {
  label: string;
  srPrefix?: string;
  value: string | number;
  onChange: (v: string) => void;
  type?: string;
  placeholder?: string;
  list?: string;
  required?: boolean;
  name?: string;
  width?: string;
  autoFocus?: boolean;
}) {
  const id = useId('in');
  return (
    <div className="field" style={props.width ? { maxWidth: props.width } : undefined}>
      <label htmlFor={id}>
        <SrPrefix text={props.srPrefix} />
        {props.label}
      </label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value}
        placeholder={props.placeholder}
        list={props.list}
        required={props.required}
        autoFocus={props.autoFocus}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </div>
  );
}

export function LabeledSelect(props: {
  label: string;
  srPrefix?: string;
  value: string;
  onChange: (v: string) => void;
  options: (string | { value: string; label: string })[];
  name?: string;
  placeholder?: string;
}) {
  const id = useId('sel');
  return (
    <div className="field">
      <label htmlFor={id}>
        <SrPrefix text={props.srPrefix} />
        {props.label}
      </label>
      <select id={id} name={props.name} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        {props.placeholder !== undefined ? <option value="">{props.placeholder}</option> : null}
        {props.options.map((o) => {
          const v = typeof o === 'string' ? o : o.value;
          const l = typeof o === 'string' ? o : o.label;
          return (
            <option key={v} value={v}>
              {l}
            </option>
          );
        })}
      </select>
    </div>
  );
}

export function LabeledTextArea(props: { label: string; value: string; onChange: (v: string) => void; rows?: number }) {
  const id = useId('ta');
  return (
    <div className="field wide">
      <label htmlFor={id}>{props.label}</label>
      <textarea id={id} rows={props.rows ?? 16} spellCheck={false} value={props.value} onChange={(e) => props.onChange(e.target.value)} />
    </div>
  );
}

export function Pager({ hasPrev, hasNext, onPrev, onNext, label }: { hasPrev: boolean; hasNext: boolean; onPrev: () => void; onNext: () => void; label: string }) {
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" disabled={!hasPrev} onClick={onPrev}>
        ← Previous
      </button>
      <button type="button" disabled={!hasNext} onClick={onNext}>
        Next →
      </button>
    </nav>
  );
}

export function StatusBadge({ status }: { status?: string }) {
  const s = (status ?? 'unknown').toLowerCase();
  const cls = /succe|ok|active|done|complete/.test(s) ? 'ok' : /fail|error|cancel/.test(s) ? 'bad' : /draft|inactive|warn|skip/.test(s) ? 'warn' : 'neutral';
  return <span className={`badge ${cls}`}>{status ?? 'unknown'}</span>;
}

/** Text for screen readers only (e.g. "Rule 1 condition 2" before a short visible label). */
function SrPrefix({ text }: { text?: string }) {
  return text ? <span className="sr-only">{text} </span> : null;
}
