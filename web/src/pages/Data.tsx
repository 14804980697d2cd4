import { useState } from 'react';
import { api, enc, Field, Page, Row } from '../api';
import { DataTable, ErrorBox, Loading, StatusBadge } from '../components';
import { usePaged } from '../paging';
import { fmtNum, fmtTime, href, useAction, useLoad } from '../util';

interface Source {
  name: string;
  kind?: string;
  rows?: number;
  quarantined?: number;
  last_ingest?: { status?: string; rows_read?: number; rows_stored?: number; finished_at?: string } | null;
}
interface Entity {
  name: string;
  rows?: number;
  fields?: number | Field[];
}

export function DataPage({ rest }: { rest: string[] }) {
  if (rest[0]) return <EntityView name={rest[0]} tab={rest[1] ?? 'rows'} />;
  return <DataHome />;
}

function DataHome() {
  const sources = useLoad(() => api.get<Page<Source>>('sources'), []);
  const entities = useLoad(() => api.get<Page<Entity>>('entities'), []);
  const act = useAction();
  const [msg, setMsg] = useState<string>();
  const refresh = (name?: string) =>
    act.run(async () => {
      const r = await api.send<{ id?: unknown }>('POST /api/v1/runs', 'runs', name ? { sources: [name] } : {});
      setMsg(`Refresh started${name ? ` for ${name}` : ''} (run ${r?.id ?? '?'}).`);
      setTimeout(sources.reload, 2000);
    });
  return (
    <>
      <div className="page-head">
        <h1>Data</h1>
        <div className="actions">
          <button type="button" className="primary" disabled={act.busy} onClick={() => refresh()}>
            Refresh all sources
          </button>
        </div>
      </div>
      <ErrorBox error={act.error} title="Refresh" />
      {msg ? (
        <div className="notice" role="status">
          {msg} <a href={href('admin', 'runs')}>See runs</a>
        </div>
      ) : null}
      <section aria-labelledby="src-h">
        <h2 id="src-h">Sources</h2>
        <ErrorBox error={sources.error} />
        {sources.loading && !sources.data ? <Loading what="sources" /> : null}
        <DataTable
          testid="sources-table"
          rows={(sources.data?.items ?? []) as unknown as Row[]}
          columns={['name', 'kind', 'rows', 'quarantined', 'last ingest', 'refresh']}
          render={{
            name: (r) => <a href={href('data', String(r.name))}>{String(r.name)}</a>,
            quarantined: (r) =>
              Number(r.quarantined) > 0 ? <a href={href('data', String(r.name), 'quarantine')}>{fmtNum(r.quarantined)}</a> : fmtNum(r.quarantined ?? 0),
            'last ingest': (r) => {
              const li = r.last_ingest as Source['last_ingest'];
              if (!li) return 'never';
              return (
                <>
                  <StatusBadge status={li.status} /> {fmtNum(li.rows_read)} read · {fmtNum(li.rows_stored)} stored · {fmtTime(li.finished_at)}
                </>
              );
            },
            refresh: (r) => (
              <button type="button" disabled={act.busy} onClick={() => refresh(String(r.name))} aria-label={`Refresh ${r.name}`}>
                Refresh
              </button>
            ),
          }}
        />
      </section>
      <section aria-labelledby="ent-h">
        <h2 id="ent-h">Entities</h2>
        <ErrorBox error={entities.error} />
        <DataTable
          rows={(entities.data?.items ?? []) as unknown as Row[]}
          columns={['name', 'rows', 'fields']}
          render={{
            name: (r) => <a href={href('data', String(r.name))}>{String(r.name)}</a>,
            fields: (r) => (Array.isArray(r.fields) ? r.fields.length : fmtNum(r.fields)),
          }}
        />
      </section>
    </>
  );
}

function EntityView({ name, tab }: { name: string; tab: string }) {
  const schema = useLoad(() => api.get<{ fields: Field[] }>(`entities/${enc(name)}/schema`), [name]);
  const rows = usePaged<Row>(`entities/${enc(name)}/${tab === 'quarantine' ? 'quarantine' : 'rows'}`, {}, 25, [tab]);
  return (
    <>
      <div className="page-head">
        <h1>{name}</h1>
        <div className="actions">
          <a className="button" href={href('data')}>
            All data
          </a>
        </div>
      </div>
      <div className="grid2 wide-right">
        <section className="card" aria-labelledby="schema-h">
          <h2 id="schema-h">Schema</h2>
          <ErrorBox error={schema.error} />
          <DataTable rows={(schema.data?.fields ?? []) as unknown as Row[]} columns={['name', 'type', 'semantic']} />
        </section>
        <section aria-labelledby="rows-h">
          <nav className="tabs" aria-label="Rows">
            <a className="button" aria-current={tab !== 'quarantine' ? 'page' : undefined} href={href('data', name, 'rows')}>
              Rows preview
            </a>
            <a className="button" aria-current={tab === 'quarantine' ? 'page' : undefined} href={href('data', name, 'quarantine')}>
              Quarantined rows
            </a>
          </nav>
          <h2 id="rows-h">{tab === 'quarantine' ? 'Quarantined rows (with reasons)' : 'Rows'}</h2>
          <ErrorBox error={rows.error} />
          {rows.loading && !rows.data ? <Loading /> : null}
          <DataTable rows={rows.items} empty={tab === 'quarantine' ? 'No quarantined rows.' : 'No rows.'} />
          {rows.pager(tab)}
        </section>
      </div>
    </>
  );
}
