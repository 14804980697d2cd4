import { FormEvent, useEffect, useState } from 'react';
import { api, ApiKeyRequest, enc, Page, Row, Run } from '../api';
import { BarChart, DataTable, ErrorBox, LabeledInput, LabeledSelect, LabeledTextArea, Loading, StatusBadge } from '../components';
import { useMe } from '../me';
import { usePaged } from '../paging';
import { fmtDuration, fmtTime, href, useAction, useLoad } from '../util';

const TABS = [
  { key: 'runs', label: 'Run history' },
  { key: 'schedules', label: 'Schedules' },
  { key: 'apikeys', label: 'API keys' },
  { key: 'audit', label: 'Audit log' },
];

export function AdminPage({ rest }: { rest: string[] }) {
  const tab = rest[0] ?? 'runs';
  let body;
  if (tab === 'runs' && rest[1]) body = <RunDetail id={rest[1]} />;
  else if (tab === 'schedules') body = <Schedules />;
  else if (tab === 'apikeys') body = <ApiKeys />;
  else if (tab === 'audit') body = <Audit />;
  else body = <Runs />;
  return (
    <>
      <div className="page-head">
        <h1>Admin</h1>
      </div>
      <nav className="tabs" aria-label="Admin sections">
        {TABS.map((t) => (
          <a key={t.key} className="button" href={href('admin', t.key)} aria-current={tab === t.key ? 'page' : undefined}>
            {t.label}
          </a>
        ))}
      </nav>
      {body}
    </>
  );
}

function totalMicros(r: Run): number | undefined {
  if (r.stages?.length) return r.stages.reduce((s, x) => s + (x.duration_micros ?? 0), 0);
  if (r.started_at && r.finished_at) return (new Date(r.finished_at).getTime() - new Date(r.started_at).getTime()) * 1000;
  return undefined;
}

function Runs() {
  const runs = usePaged<Run>('runs', {}, 25, []);
  const act = useAction();
  return (
    <section aria-labelledby="runs-h">
      <div className="page-head">
        <h2 id="runs-h">Run history</h2>
        <div className="actions">
          <button type="button" onClick={runs.reload}>
            Reload
          </button>
          <button type="button" className="primary" disabled={act.busy} onClick={() => act.run(async () => { await api.send('POST /api/v1/runs', 'runs', {}); runs.reload(); })}>
            Start a full refresh
          </button>
        </div>
      </div>
      <ErrorBox error={act.error} />
      <ErrorBox error={runs.error} />
      {runs.loading && !runs.data ? <Loading what="runs" /> : null}
      <DataTable
        rows={runs.items as unknown as Row[]}
        columns={['id', 'status', 'trigger', 'started_at', 'duration', 'error']}
        render={{
          id: (r) => <a href={href('admin', 'runs', String(r.id))}>{String(r.id)}</a>,
          status: (r) => <StatusBadge status={String(r.status)} />,
          started_at: (r) => fmtTime(r.started_at),
          duration: (r) => fmtDuration(totalMicros(r as unknown as Run)),
        }}
      />
      {runs.pager('Runs')}
    </section>
  );
}

function RunDetail({ id }: { id: string }) {
  const run = useLoad(() => api.get<Run>(`runs/${enc(id)}`), [id]);
  const act = useAction();
  const r = run.data;
  const running = r && /run|queue|pend|start/i.test(r.status);
  useEffect(() => {
    if (!running) return;
    const t = setTimeout(run.reload, 1500);
    return () => clearTimeout(t);
  }, [running, r]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <section aria-labelledby="run-h">
      <div className="page-head">
        <h2 id="run-h">Run {id}</h2>
        <div className="actions">
          <a className="button" href={href('admin', 'runs')}>
            All runs
          </a>
          {running ? (
            <button type="button" className="danger" onClick={() => act.run(async () => { await api.post(`runs/${enc(id)}/cancel`, {}); run.reload(); })}>
              Cancel run
            </button>
          ) : null}
        </div>
      </div>
      <ErrorBox error={act.error} />
      <ErrorBox error={run.error} />
      {r ? (
        <>
          <p>
            <StatusBadge status={r.status} /> {r.trigger ? `trigger: ${r.trigger} · ` : ''}started {fmtTime(r.started_at)} · finished {fmtTime(r.finished_at)} · {fmtDuration(totalMicros(r))}
          </p>
          {r.error ? <div className="error">{r.error}</div> : null}
          {r.stages?.length ? (
            <BarChart horizontal label="stage durations (ms)" labels={r.stages.map((s) => s.stage)} values={r.stages.map((s) => Math.round((s.duration_micros ?? 0) / 1000))} height={Math.max(140, 30 * r.stages.length)} />
          ) : null}
          <DataTable
            rows={(r.stages ?? []) as unknown as Row[]}
            columns={['stage', 'status', 'duration', 'rows_in', 'rows_out', 'message']}
            render={{ status: (s) => <StatusBadge status={String(s.status)} />, duration: (s) => fmtDuration(s.duration_micros) }}
          />
        </>
      ) : null}
    </section>
  );
}

interface Schedules {
  refresh?: string;
  sources?: Record<string, string>;
  segments?: Record<string, string>;
}

function Schedules() {
  const sched = useLoad(() => api.get<Schedules>('schedules'), []);
  const [s, setS] = useState<Schedules>({});
  const [extra, setExtra] = useState('');
  const save = useAction();
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (sched.data) setS(sched.data);
  }, [sched.data]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.run(async () => {
      // Only the schedules: the GET answer also holds jobs and state the PUT does not take.
      await api.send('PUT /api/v1/schedules', 'schedules', { refresh: s.refresh ?? null, sources: s.sources ?? {}, segments: s.segments ?? {} });
      setSaved(true);
      sched.reload();
    });
  };
  const setMap = (k: 'sources' | 'segments', name: string, v: string) => setS({ ...s, [k]: { ...(s[k] ?? {}), [name]: v } });
  return (
    <form className="card" onSubmit={submit} aria-labelledby="sched-h">
      <h2 id="sched-h">Schedules</h2>
      <p className="muted small">Cron expressions (5 fields, e.g. <code>0 3 * * *</code> for 03:00 daily). Empty means the default.</p>
      <ErrorBox error={sched.error} />
      <LabeledInput label="Full refresh" value={s.refresh ?? ''} onChange={(v) => setS({ ...s, refresh: v })} placeholder="0 3 * * *" />
      {(['sources', 'segments'] as const).map((k) => (
        <fieldset key={k}>
          <legend>{k === 'sources' ? 'Sources' : 'Segments'}</legend>
          {Object.entries(s[k] ?? {}).map(([name, cron]) => (
            <LabeledInput key={name} label={name} value={cron} onChange={(v) => setMap(k, name, v)} />
          ))}
          {!Object.keys(s[k] ?? {}).length ? <p className="muted small">None scheduled separately.</p> : null}
        </fieldset>
      ))}
      <details>
        <summary>Edit as JSON</summary>
        <LabeledTextArea label="Schedules (JSON)" value={extra || JSON.stringify(s, null, 2)} onChange={setExtra} rows={10} />
        <button
          type="button"
          onClick={() => {
            try {
              setS(JSON.parse(extra || JSON.stringify(s)));
              setExtra('');
            } catch (e) {
              save.setError(e as Error);
            }
          }}
        >
          Apply JSON
        </button>
      </details>
      <ErrorBox error={save.error} title="Save" />
      {saved ? <div className="notice" role="status">Schedules saved.</div> : null}
      <button type="submit" className="primary" disabled={save.busy}>
        Save schedules
      </button>
    </form>
  );
}

interface ApiKey {
  id: string | number;
  name: string;
  role: string;
  created_at?: string;
  last_used_at?: string;
  key?: string;
}

function ApiKeys() {
  const me = useMe();
  const keys = useLoad(() => api.get<Page<ApiKey> | ApiKey[]>('apikeys'), []);
  const [name, setName] = useState('');
  const [role, setRole] = useState('viewer');
  const [created, setCreated] = useState<ApiKey>();
  const act = useAction();
  const list = Array.isArray(keys.data) ? keys.data : keys.data?.items ?? [];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    act.run(async () => {
      const k = await api.send<ApiKey>('POST /api/v1/apikeys', 'apikeys', { name, role: role as ApiKeyRequest['role'] });
      setCreated(k);
      setName('');
      keys.reload();
    });
  };
  return (
    <section aria-labelledby="keys-h">
      <h2 id="keys-h">API keys</h2>
      {me.role !== 'admin' ? <p className="muted">Only admins can manage API keys.</p> : null}
      <ErrorBox error={keys.error} />
      <DataTable
        testid="apikeys-table"
        rows={list as unknown as Row[]}
        columns={['id', 'name', 'role', 'prefix', 'created_at', 'last_used_at', 'revoked_at', 'revoke']}
        render={{
          created_at: (r) => fmtTime(r.created_at),
          last_used_at: (r) => fmtTime(r.last_used_at),
          revoked_at: (r) => (r.revoked_at ? fmtTime(r.revoked_at) : ''),
          revoke: (r) => r.revoked_at ? '' : (
            <button
              type="button"
              className="danger"
              aria-label={`Revoke key ${r.name}`}
              onClick={() => {
                if (window.confirm(`Revoke the key ${r.name}? Programs using it stop working.`))
                  act.run(async () => {
                    await api.del(`apikeys/${enc(String(r.id))}`);
                    keys.reload();
                  });
              }}
            >
              Revoke
            </button>
          ),
        }}
      />
      <form className="card row" onSubmit={submit} aria-label="Create an API key">
        <LabeledInput label="Key name" value={name} onChange={setName} required />
        <LabeledSelect label="Role" value={role} onChange={setRole} options={['viewer', 'contributor', 'admin']} />
        <button type="submit" className="primary" disabled={act.busy || !name.trim()}>
          Create key
        </button>
      </form>
      <ErrorBox error={act.error} />
      {created?.key ? (
        <div className="notice" role="status" data-testid="new-key">
          Key <strong>{created.name}</strong> ({created.role}) created. Copy it now, it is shown only once:
          <pre className="code" data-testid="new-key-value">{created.key}</pre>
        </div>
      ) : null}
    </section>
  );
}

function Audit() {
  const audit = usePaged<Row>('audit', {}, 50, []);
  return (
    <section aria-labelledby="audit-h">
      <h2 id="audit-h">Audit log</h2>
      <ErrorBox error={audit.error} />
      {audit.loading && !audit.data ? <Loading what="audit log" /> : null}
      <DataTable rows={audit.items} columns={['at', 'actor', 'action', 'target', 'detail']} render={{ at: (r) => fmtTime(r.at) }} />
      {audit.pager('Audit log')}
    </section>
  );
}
