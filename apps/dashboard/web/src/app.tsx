import { lazy, Suspense, useEffect, useState } from 'react';
import { api } from './api/client';
import { SignInPage } from './auth/sign-in.page';
import { FunctionsPage } from './functions/functions.page';
import { InvocationsPage } from './invocations/invocations.page';
import { OverviewPage } from './overview/overview.page';
import { Link, useLocation } from './router';
import { Spinner } from './ui/components';

// Pages with Monaco load it on demand: sign-in, overview and invocations stay light.
const FunctionDetailPage = lazy(() => import('./functions/function-detail.page').then((m) => ({ default: m.FunctionDetailPage })));
const RuntimePage = lazy(() => import('./runtime/runtime.page').then((m) => ({ default: m.RuntimePage })));

const NAV = [
  { to: '/', label: 'Overview', icon: 'M3 13h4v8H3zM10 8h4v13h-4zM17 3h4v18h-4z' },
  { to: '/functions', label: 'Functions', icon: 'M8 4c-2 0-3 1-3 3v3l-2 2 2 2v3c0 2 1 3 3 3M16 4c2 0 3 1 3 3v3l2 2-2 2v3c0 2-1 3-3 3' },
  { to: '/invocations', label: 'Invocations', icon: 'M4 6h16M4 12h16M4 18h10' },
  { to: '/runtime', label: 'Runtime', icon: 'M4 7l8-4 8 4v10l-8 4-8-4zM4 7l8 4 8-4M12 11v10' },
];

export function App() {
  const [signedIn, setSignedIn] = useState(api.signedIn);
  useEffect(() => api.onChange(() => setSignedIn(api.signedIn)), []);
  const { path } = useLocation();
  const [menu, setMenu] = useState(false);
  useEffect(() => setMenu(false), [path]);

  if (!signedIn) return <SignInPage />;

  const fnMatch = /^\/functions\/(\d+)$/.exec(path);
  let page: React.ReactNode;
  if (fnMatch) page = <FunctionDetailPage id={Number(fnMatch[1])} />;
  else if (path === '/functions') page = <FunctionsPage />;
  else if (path === '/invocations') page = <InvocationsPage />;
  else if (path === '/runtime') page = <RuntimePage />;
  else if (path === '/') page = <OverviewPage />;
  else page = <div className="page"><h1>Not found</h1><p><Link to="/">Back to the overview</Link></p></div>;

  const active = (to: string) => (to === '/' ? path === '/' : path.startsWith(to));
  return (
    <div className={`shell ${menu ? 'menu-open' : ''}`}>
      <aside className="sidebar">
        <div className="brand">
          <span className="logo">fn</span> chatfn
          <button className="menu-btn" onClick={() => setMenu(!menu)} aria-label="Menu">☰</button>
        </div>
        <nav>
          {NAV.map((n) => (
            <Link key={n.to} to={n.to} className={`nav-item ${active(n.to) ? 'active' : ''}`} testId={`nav-${n.label.toLowerCase()}`}>
              <svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round">
                <path d={n.icon} />
              </svg>
              {n.label}
            </Link>
          ))}
        </nav>
        <div className="sidebar-foot">
          <div className="muted small ellipsis" title={api.clientId}>{api.clientId}</div>
          <button className="btn btn-link small" onClick={() => api.signOut()} data-testid="signout">Sign out</button>
        </div>
      </aside>
      <main className="main">
        <Suspense fallback={<div className="page"><Spinner label="Loading editor…" /></div>}>{page}</Suspense>
      </main>
    </div>
  );
}
