import { api, Row } from '../api';
import { DataTable, ErrorBox, Loading } from '../components';
import { fmtNum, href, useLoad } from '../util';

interface Rel {
  name: string;
  from: { entity: string; field: string };
  to: { entity: string; field: string };
  rows?: number;
  matched?: number;
  orphans?: number;
}

function items<T>(x: unknown): T[] {
  if (Array.isArray(x)) return x as T[];
  const o = x as { items?: T[] } | undefined;
  return o?.items ?? [];
}

export function ActivitiesPage() {
  const acts = useLoad(() => api.get<unknown>('activities'), []);
  const rels = useLoad(() => api.get<unknown>('relationships'), []);
  const activities = items<Row>(acts.data);
  const relationships = items<Rel>(rels.data);
  return (
    <>
      <div className="page-head">
        <h1>Activities &amp; relationships</h1>
      </div>
      <section className="card" aria-labelledby="diag-h">
        <h2 id="diag-h">Entities and relationships</h2>
        <ErrorBox error={rels.error} />
        {rels.loading && !rels.data ? <Loading /> : <Diagram rels={relationships} />}
      </section>
      <section aria-labelledby="rel-h">
        <h2 id="rel-h">Relationships</h2>
        <DataTable
          rows={relationships.map((r) => ({ ...r, from: `${r.from?.entity}.${r.from?.field}`, to: `${r.to?.entity}.${r.to?.field}` })) as unknown as Row[]}
          empty="No relationships defined."
        />
      </section>
      <section aria-labelledby="act-h">
        <h2 id="act-h">Activities</h2>
        <ErrorBox error={acts.error} />
        <DataTable
          rows={activities}
          empty="No activities defined."
          render={{ entity: (r) => <a href={href('data', String(r.entity))}>{String(r.entity)}</a> }}
        />
      </section>
    </>
  );
}

/** A simple SVG: activity entities on the left, profile sources in the middle, Customer on the right. */
function Diagram({ rels }: { rels: Rel[] }) {
  if (!rels.length) return <p className="muted">No relationships.</p>;
  const left = Array.from(new Set(rels.map((r) => r.from.entity)));
  const mid = Array.from(new Set(rels.map((r) => r.to.entity))).filter((e) => !left.includes(e));
  const W = 760;
  const boxW = 190;
  const boxH = 34;
  const gap = 18;
  const rowsN = Math.max(left.length, mid.length, 1);
  const H = rowsN * (boxH + gap) + gap;
  const pos = new Map<string, { x: number; y: number }>();
  left.forEach((e, i) => pos.set(e, { x: 10, y: gap + i * (boxH + gap) }));
  mid.forEach((e, i) => pos.set(e, { x: 285, y: gap + i * (boxH + gap) + ((rowsN - mid.length) * (boxH + gap)) / 2 }));
  const cust = { x: W - boxW - 10, y: H / 2 - boxH / 2 };
  return (
    <svg className="diagram" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Relationships: ${rels.map((r) => `${r.from.entity} to ${r.to.entity}`).join('; ')}; profile sources unify into Customer`}>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="#64748b" />
        </marker>
      </defs>
      {rels.map((r, i) => {
        const a = pos.get(r.from.entity)!;
        const b = pos.get(r.to.entity)!;
        return (
          <g key={i}>
            <line x1={a.x + boxW} y1={a.y + boxH / 2} x2={b.x} y2={b.y + boxH / 2} stroke="#64748b" markerEnd="url(#arrow)" />
            <text x={a.x + boxW + 6} y={a.y + boxH / 2 - 5} fontSize="10" textAnchor="start" fill="#475569">
              {r.from.field}
            </text>
          </g>
        );
      })}
      {mid.map((e) => {
        const b = pos.get(e)!;
        return <line key={e} x1={b.x + boxW} y1={b.y + boxH / 2} x2={cust.x} y2={cust.y + boxH / 2} stroke="#2563eb" strokeDasharray="4 3" markerEnd="url(#arrow)" />;
      })}
      {[...left, ...mid].map((e) => {
        const p = pos.get(e)!;
        const isAct = left.includes(e);
        return (
          <g key={e}>
            <rect x={p.x} y={p.y} width={boxW} height={boxH} rx="6" fill={isAct ? '#fef3c7' : '#e0f2fe'} stroke="#94a3b8" />
            <text x={p.x + boxW / 2} y={p.y + boxH / 2 + 4} fontSize="12" textAnchor="middle">
              {e}
            </text>
          </g>
        );
      })}
      <rect x={cust.x} y={cust.y} width={boxW} height={boxH} rx="6" fill="#dcfce7" stroke="#16a34a" />
      <text x={cust.x + boxW / 2} y={cust.y + boxH / 2 + 4} fontSize="12" textAnchor="middle" fontWeight="bold">
        Customer (unified)
      </text>
      <text x={10} y={H - 2} fontSize="10" fill="#64748b">
        {`${fmtNum(rels.length)} relationship(s)`}
      </text>
    </svg>
  );
}
