import { api, Overview } from '../api';
import { ErrorBox, LineChart, Loading, StatusBadge, Tile } from '../components';
import { fmtDuration, fmtNum, fmtPct, fmtTime, href, useAction, useLoad } from '../util';
import { GrowthItem, GrowthText } from './Insights';

export function HomePage() {
  const ov = useLoad(() => api.get<Overview>('overview'), []);
  // Growth since last week per segment (a failure leaves the tiles without it).
  const growth = useLoad(() => api.get<{ items: GrowthItem[] }>('segment-growth').catch(() => ({ items: [] as GrowthItem[] })), []);
  const refresh = useAction();
  const o = ov.data;
  return (
    <>
      <div className="page-head">
        <h1>Home</h1>
        <div className="actions">
          <button type="button" onClick={() => {
            ov.reload();
            growth.reload();
          }}>
            Reload
          </button>
          <button
            type="button"
            className="primary"
            disabled={refresh.busy}
            onClick={() => refresh.run(async () => {
              await api.send('POST /api/v1/runs', 'runs', {});
              setTimeout(ov.reload, 1500);
            })}
          >
            Refresh all data now
          </button>
        </div>
      </div>
      <ErrorBox error={refresh.error} title="Refresh" />
      <ErrorBox error={ov.error} />
      {ov.loading && !o ? <Loading what="overview" /> : null}
      {o ? (
        <>
          <div className="tiles">
            <Tile label="Customers" value={fmtNum(o.customers)} testid="tile-customers" />
            <Tile label="Sources" value={<a href={href('data')}>{fmtNum(o.sources?.length ?? 0)}</a>}>
              <div className="muted small">{fmtNum(o.source_records)} records</div>
            </Tile>
            <Tile label="Unification rate" value={fmtPct(o.unification_rate)}>
              <div className="muted small">
                {o.profile_records !== undefined ? `${fmtNum(o.profile_records)} profile records → ${fmtNum(o.customers)} customers` : 'records merged into fewer profiles'}
              </div>
            </Tile>
            <Tile label="Last refresh" value={o.last_run ? <StatusBadge status={o.last_run.status} /> : 'never'}>
              {o.last_run ? (
                <div className="muted small">
                  {fmtTime(o.last_run.finished_at ?? o.last_run.started_at)}
                  {o.last_run.stages?.length ? ` · ${fmtDuration(o.last_run.stages.reduce((s, x) => s + (x.duration_micros ?? 0), 0))}` : ''}
                  {' · '}
                  <a href={href('admin', 'runs', o.last_run.id)}>details</a>
                </div>
              ) : null}
            </Tile>
          </div>
          <h2>Segments</h2>
          {o.segments.length === 0 ? (
            <p className="muted">
              No segments yet. <a href={href('segments', 'new')}>Create one</a>.
            </p>
          ) : (
            <div className="tiles segments-tiles">
              {o.segments.map((s) => {
                const hist = s.history ?? [];
                return (
                  <a key={s.name} className="tile seg-tile" href={href('segments', s.name)} data-testid={`home-seg-${s.name}`}>
                    <div className="tile-label">{s.display_name || s.name}</div>
                    <div className="tile-value" data-testid="members">
                      {fmtNum(s.members)}
                    </div>
                    <div className="muted small">
                      members{' '}
                      {growth.data ? <GrowthText change={growth.data.items.find((g) => g.name === s.name)?.change} testid={`growth-${s.name}`} /> : null}
                    </div>
                    {hist.length >= 1 ? (
                      <LineChart small label={`${s.name} members over time`} labels={hist.map((h) => fmtTime(h.evaluated_at))} values={hist.map((h) => h.members)} />
                    ) : (
                      <div className="muted small">no history yet</div>
                    )}
                  </a>
                );
              })}
            </div>
          )}
        </>
      ) : null}
    </>
  );
}
