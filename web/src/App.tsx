import { FormEvent, useEffect, useState } from 'react';
import { api, clearKey, getKey, Me, setKey } from './api';
import { ErrorBox } from './components';
import { errText, href, useId, useRoute } from './util';
import { HomePage } from './pages/Home';
import { DataPage } from './pages/Data';
import { UnifyPage } from './pages/Unify';
import { ReviewPage } from './pages/Review';
import { ActivitiesPage } from './pages/Activities';
import { MeasuresPage } from './pages/Measures';
import { SegmentsPage } from './pages/Segments';
import { CustomersPage } from './pages/Customers';
import { ExportsPage } from './pages/Exports';
import { PredictionsPage } from './pages/Predictions';
import { InsightsPage } from './pages/Insights';
import { AdminPage } from './pages/Admin';
import { MeContext } from './me';

const NAV: { key: string; label: string }[] = [
  { key: 'home', label: 'Home' },
  { key: 'data', label: 'Data' },
  { key: 'unify', label: 'Unify' },
  { key: 'review', label: 'Review' },
  { key: 'activities', label: 'Activities' },
  { key: 'measures', label: 'Measures' },
  { key: 'segments', label: 'Segments' },
  { key: 'insights', label: 'Insights' },
  { key: 'customers', label: 'Customers' },
  { key: 'predictions', label: 'Predictions' },
  { key: 'exports', label: 'Exports' },
  { key: 'admin', label: 'Admin' },
];

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(!!getKey());
  const [startError, setStartError] = useState<string>();

  useEffect(() => {
    const k = getKey();
    if (k) {
      api.me(k).then(
        (m) => {
          setMe(m);
          setChecking(false);
        },
        (e) => {
          if (e.status === 401) clearKey();
          else setStartError(errText(e));
          setChecking(false);
        },
      );
    }
    const onUnauth = () => {
      clearKey();
      setMe(null);
    };
    window.addEventListener('cdp-unauthorized', onUnauth);
    return () => window.removeEventListener('cdp-unauthorized', onUnauth);
  }, []);

  if (checking) return <p className="muted center">Connecting…</p>;
  if (!me)
    return (
      <Login
        initialError={startError}
        onLogin={(m, k) => {
          setKey(k);
          setMe(m);
        }}
      />
    );
  return (
    <MeContext.Provider value={me}>
      <Shell
        me={me}
        onLogout={() => {
          clearKey();
          setMe(null);
        }}
      />
    </MeContext.Provider>
  );
}

function Login({ onLogin, initialError }: { onLogin: (m: Me, key: string) => void; initialError?: string }) {
  const [key, setK] = useState('');
  const [error, setError] = useState<string | undefined>(initialError);
  const [busy, setBusy] = useState(false);
  const id = useId('key');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const m = await api.me(key.trim());
      onLogin(m, key.trim());
    } catch (err) {
      setError((err as { status?: number }).status === 401 ? 'This API key is not valid.' : errText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">cdp — Customer Data Platform</h1>
        <p className="muted">Sign in with an API key. Ask an admin for one, or run <code>cdp apikey create</code>.</p>
        <div className="field">
          <label htmlFor={id}>API key</label>
          <input id={id} name="apikey" type="password" autoComplete="off" value={key} onChange={(e) => setK(e.target.value)} required autoFocus />
        </div>
        {error ? (
          <div className="error" role="alert">
            {error}
          </div>
        ) : null}
        <button type="submit" className="primary" disabled={busy || !key.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted small">The key is kept in this browser tab only (session storage).</p>
      </form>
    </main>
  );
}

function Shell({ me, onLogout }: { me: Me; onLogout: () => void }) {
  const route = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  const page = route[0] ?? 'home';
  useEffect(() => {
    setMenuOpen(false);
    const label = NAV.find((n) => n.key === page)?.label ?? 'Not found';
    document.title = `${label} · cdp`;
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [route.join('/')]); // eslint-disable-line react-hooks/exhaustive-deps

  let content;
  const rest = route.slice(1);
  switch (page) {
    case 'home':
      content = <HomePage />;
      break;
    case 'data':
      content = <DataPage rest={rest} />;
      break;
    case 'unify':
      content = <UnifyPage rest={rest} />;
      break;
    case 'review':
      content = <ReviewPage />;
      break;
    case 'activities':
      content = <ActivitiesPage />;
      break;
    case 'measures':
      content = <MeasuresPage rest={rest} />;
      break;
    case 'segments':
      content = <SegmentsPage rest={rest} />;
      break;
    case 'insights':
      content = <InsightsPage rest={rest} />;
      break;
    case 'customers':
      content = <CustomersPage rest={rest} />;
      break;
    case 'exports':
      content = <ExportsPage rest={rest} />;
      break;
    case 'predictions':
      content = <PredictionsPage rest={rest} />;
      break;
    case 'admin':
      content = <AdminPage rest={rest} />;
      break;
    default:
      content = <ErrorBox error={new Error(`No page '${route.join('/')}'.`)} />;
  }
  return (
    <div className="shell">
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header className="topbar">
        <button type="button" className="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <a className="brand" href={href('home')}>
          cdp
        </a>
        <span className="whoami" data-testid="whoami">
          {me.name} <span className="badge neutral">{me.role}</span>
        </span>
        <button type="button" onClick={onLogout}>
          Sign out
        </button>
      </header>
      <nav id="nav" className={`sidenav ${menuOpen ? 'open' : ''}`} aria-label="Main">
        <ul>
          {NAV.map((n) => (
            <li key={n.key}>
              <a href={href(n.key)} aria-current={page === n.key ? 'page' : undefined}>
                {n.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1} className="content">
        {content}
      </main>
    </div>
  );
}
