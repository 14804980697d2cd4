// Activation: exports (a segment's members or an entity sent to a connection,
// full or as changes), their last runs with rows added/changed/removed and a
// chart of rows sent per run, "Run now", a form to create an export (reached
// from a segment's page with the segment filled in), the connections (which
// secrets are set, never their values) and the triggers.
import { FormEvent, useEffect, useState } from 'react';
import { api, enc } from '../api';
import { BarChart, DataTable, ErrorBox, LabeledInput, LabeledSelect, Loading, Notice, StatusBadge, Tile } from '../components';
import { fmtNum, go, hashQuery, href, useAction, useLoad } from '../util';

interface RunReport {
  id: number;
  export: string;
  kind: string;
  status: string;
  trigger: string;
  delta: boolean;
  attempt: number;
  rows_total: number;
  rows_sent: number;
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  excluded_no_consent: number;
  batches_total: number;
  batches_acknowledged: number;
  failures: number;
  error: string;
  response_samples: string[];
  started_at: number;
  finished_at: number;
  seconds: number;
  resumed_run?: number;
}
interface ExportItem {
  name: string;
  connection: string;
  what: { segment?: string; entity?: string };
  mode: string;
  when: string;
  purpose?: string;
  key: string;
  target: string;
  state_rows: number;
  last_run: RunReport | null;
}
interface ConnectionItem {
  name: string;
  kind: string;
  settings: Record<string, string>;
  secrets: { key: string; from: string; reference: string; is_set: boolean }[];
  kind_registered: boolean;
  used_by: string[];
}
interface TriggerItem {
  name: string;
  connection: string;
  on: Record<string, unknown>;
  last_run: RunReport | null;
}

const when = (micros: number) => (micros ? new Date(micros / 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '—');

export function ExportsPage({ rest }: { rest: string[] }) {
  if (rest[0] === 'new') return <NewExport segment={rest[1] ?? hashQuery().get('segment') ?? ''} />;
  if (rest[0]) return <ExportDetail name={decodeURIComponent(rest[0])} />;
  return <ExportList />;
}

function ExportList() {
  const exports = useLoad(() => api.get<{ items: ExportItem[] }>('exports'), []);
  const connections = useLoad(() => api.get<{ items: ConnectionItem[] }>('connections'), []);
  const triggers = useLoad(() => api.get<{ items: TriggerItem[] }>('triggers'), []);
  const act = useAction();
  const [last, setLast] = useState<RunReport>();
  const run = (name: string) =>
    act.run(async () => {
      const r = await api.send<RunReport>('POST /api/v1/exports/{name}/run', `exports/${enc(name)}/run`, {});
      setLast(r);
      exports.reload();
    });
  const items = exports.data?.items ?? [];
  const failing = items.filter((e) => e.last_run && e.last_run.status !== 'succeeded').length;
  return (
    <>
      <div className="page-head">
        <h1>Exports</h1>
        <a className="button primary" href={href('exports', 'new')}>
          New export
        </a>
      </div>
      <p className="muted">
        Exports send a segment's members or a whole entity to a connection after each refresh, on a schedule or on demand: every row, or only the rows added,
        changed or removed since the last successful run. Members without consent for an export's purpose are left out and counted.
      </p>
      <ErrorBox error={exports.error} />
      <ErrorBox error={act.error} title="Run" />
      {last ? (
        <div className="notice" role="status" data-testid="export-run-result">
          {last.export}: run {last.id} {last.status} — {fmtNum(last.rows_sent, 0)} row(s) sent ({fmtNum(last.added, 0)} added, {fmtNum(last.changed, 0)} changed,{' '}
          {fmtNum(last.removed, 0)} removed{last.excluded_no_consent ? `, ${fmtNum(last.excluded_no_consent, 0)} left out without consent` : ''})
          {last.error ? `: ${last.error}` : ''}
        </div>
      ) : null}
      {exports.data ? (
        <>
          <div className="tiles">
            <Tile label="Exports" value={fmtNum(items.length, 0)} testid="export-count" />
            <Tile label="Last run not succeeded" value={fmtNum(failing, 0)} />
            <Tile label="Connections" value={fmtNum(connections.data?.items.length ?? 0, 0)} />
          </div>
          {items.length === 0 ? (
            <Notice>No exports yet. Declare them in the project (exports:), or open a segment and choose "Export".</Notice>
          ) : (
            <DataTable
              testid="exports-table"
              rows={items.map((e) => ({
                name: e.name,
                what: e.what.segment ? `segment ${e.what.segment}` : `entity ${e.what.entity}`,
                connection: e.connection,
                mode: e.mode,
                when: e.when,
                'last run': e.last_run?.status ?? 'never',
                rows: e.last_run ? e.last_run.rows_sent : null,
                'added / changed / removed': e.last_run ? `${e.last_run.added} / ${e.last_run.changed} / ${e.last_run.removed}` : '',
                finished: e.last_run ? when(e.last_run.finished_at) : '',
                action: e.name,
              }))}
              columns={['name', 'what', 'connection', 'mode', 'when', 'last run', 'rows', 'added / changed / removed', 'finished', 'action']}
              render={{
                name: (r) => <a href={href('exports', String(r.name))}>{String(r.name)}</a>,
                'last run': (r) => <StatusBadge status={String(r['last run'])} />,
                action: (r) => (
                  <button type="button" disabled={act.busy} onClick={() => run(String(r.action))} aria-label={`Run ${String(r.action)} now`}>
                    Run now
                  </button>
                ),
              }}
            />
          )}
        </>
      ) : exports.loading ? (
        <Loading what="the exports" />
      ) : null}
      <h2>Connections</h2>
      <ErrorBox error={connections.error} />
      {connections.data ? (
        <DataTable
          testid="connections-table"
          empty="No connections declared (connections: in the project)."
          rows={connections.data.items.map((c) => ({
            name: c.name,
            kind: c.kind + (c.kind_registered ? '' : ' (not available in this program)'),
            settings: Object.entries(c.settings)
              .map(([k, v]) => `${k}=${v}`)
              .join(', '),
            secrets: c.secrets.map((s) => `${s.key} from ${s.from} ${s.reference}: ${s.is_set ? 'set' : 'NOT SET'}`).join('; '),
            'used by': c.used_by.join(', '),
          }))}
        />
      ) : null}
      <h2>Triggers</h2>
      <ErrorBox error={triggers.error} />
      {triggers.data ? (
        <DataTable
          testid="triggers-table"
          empty="No triggers declared (triggers: in the project)."
          rows={triggers.data.items.map((t) => ({
            name: t.name,
            on: JSON.stringify(t.on),
            connection: t.connection,
            'last run': t.last_run?.status ?? 'never',
            events: t.last_run ? t.last_run.rows_sent : null,
          }))}
        />
      ) : null}
    </>
  );
}

function ExportDetail({ name }: { name: string }) {
  const ex = useLoad(() => api.get<ExportItem>(`exports/${enc(name)}`), [name]);
  const history = useLoad(() => api.get<{ items: RunReport[] }>(`exports/${enc(name)}/history`, { limit: 30 }), [name]);
  const act = useAction();
  const run = (full: boolean) =>
    act.run(async () => {
      await api.send<RunReport>('POST /api/v1/exports/{name}/run', `exports/${enc(name)}/run`, { full });
      ex.reload();
      history.reload();
    });
  const runs = [...(history.data?.items ?? [])].reverse();
  return (
    <>
      <div className="page-head">
        <h1>Export {name}</h1>
        <a className="button" href={href('exports')}>
          All exports
        </a>
      </div>
      <ErrorBox error={ex.error} />
      <ErrorBox error={act.error} title="Run" />
      {ex.data ? (
        <>
          <div className="tiles">
            <Tile label="Sends" value={ex.data.what.segment ? `segment ${ex.data.what.segment}` : `entity ${ex.data.what.entity}`} />
            <Tile label="To" value={`${ex.data.connection} (${ex.data.target})`} />
            <Tile label="Mode" value={`${ex.data.mode}, ${ex.data.when}`} />
            <Tile label="Rows at the destination" value={ex.data.state_rows < 0 ? 'never exported' : fmtNum(ex.data.state_rows, 0)} testid="export-state-rows" />
          </div>
          <div className="row">
            <button type="button" className="primary" disabled={act.busy} onClick={() => run(false)}>
              Run now
            </button>
            <button type="button" disabled={act.busy} onClick={() => run(true)}>
              Run full (replace everything)
            </button>
          </div>
        </>
      ) : ex.loading ? (
        <Loading what="the export" />
      ) : null}
      <h2>Runs</h2>
      <ErrorBox error={history.error} />
      {runs.length ? (
        <BarChart label="Rows sent per run" labels={runs.map((r) => `#${r.id}`)} values={runs.map((r) => r.rows_sent)} height={180} />
      ) : null}
      {history.data ? (
        <DataTable
          testid="export-history"
          empty="No runs yet."
          rows={history.data.items.map((r) => ({
            run: r.id,
            status: r.status,
            by: r.trigger,
            kind: r.delta ? 'changes' : 'full',
            sent: r.rows_sent,
            added: r.added,
            changed: r.changed,
            removed: r.removed,
            'left out (consent)': r.excluded_no_consent,
            failures: r.failures,
            seconds: r.seconds,
            started: when(r.started_at),
            response: r.error || (r.response_samples ?? []).slice(0, 2).join(' | '),
          }))}
          render={{ status: (r) => <StatusBadge status={String(r.status)} /> }}
        />
      ) : null}
    </>
  );
}

function NewExport({ segment }: { segment: string }) {
  const segments = useLoad(() => api.get<{ items: { name: string }[] }>('segments', { limit: 500 }), []);
  const connections = useLoad(() => api.get<{ items: ConnectionItem[] }>('connections'), []);
  const [seg, setSeg] = useState(segment);
  const [name, setName] = useState(segment ? `${segment}_export` : '');
  const [connection, setConnection] = useState('');
  const [mode, setMode] = useState('delta');
  const [whenText, setWhen] = useState('refresh');
  const [purpose, setPurpose] = useState('');
  const act = useAction();
  useEffect(() => {
    const first = connections.data?.items[0]?.name;
    if (!connection && first) setConnection(first);
  }, [connections.data]); // eslint-disable-line react-hooks/exhaustive-deps
  const submit = (e: FormEvent) => {
    e.preventDefault();
    act.run(async () => {
      await api.send('POST /api/v1/exports', 'exports', {
        name,
        connection,
        what: { segment: seg },
        mode,
        when: whenText,
        ...(purpose ? { purpose } : {}),
      });
      go('exports', name);
    });
  };
  return (
    <>
      <div className="page-head">
        <h1>New export</h1>
      </div>
      <ErrorBox error={segments.error ?? connections.error} />
      <ErrorBox error={act.error} title="Save" />
      {connections.data && connections.data.items.length === 0 ? (
        <Notice>No connections are declared yet: add one under connections: in the project (docs/project-yaml.md, "Connections and exports").</Notice>
      ) : null}
      <form className="form" onSubmit={submit} aria-label="New export">
        <LabeledSelect label="Segment" value={seg} onChange={setSeg} placeholder="Choose a segment" options={(segments.data?.items ?? []).map((s) => s.name)} />
        <LabeledInput label="Name" value={name} onChange={setName} required />
        <LabeledSelect label="Connection" value={connection} onChange={setConnection} options={(connections.data?.items ?? []).map((c) => ({ value: c.name, label: `${c.name} (${c.kind})` }))} />
        <LabeledSelect
          label="Mode"
          value={mode}
          onChange={setMode}
          options={[
            { value: 'delta', label: 'changes since the last run (delta)' },
            { value: 'full', label: 'every member each time (full)' },
          ]}
        />
        <LabeledInput label="When (refresh, manual or a cron text)" value={whenText} onChange={setWhen} />
        <LabeledInput label="Consent purpose (optional)" value={purpose} onChange={setPurpose} placeholder="e.g. email_marketing" />
        <div className="row">
          <button type="submit" className="primary" disabled={act.busy || !seg || !name || !connection}>
            Create export
          </button>
        </div>
      </form>
    </>
  );
}
