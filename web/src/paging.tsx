import { useState } from 'react';
import { api, Page, Query } from './api';
import { Pager } from './components';
import { useLoad } from './util';

/** Cursor paging over a `{items, next_cursor}` list. */
export function usePaged<T>(path: string, query: Query, limit: number, deps: unknown[]) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const key = JSON.stringify([path, query, limit, ...deps]);
  const [lastKey, setLastKey] = useState(key);
  if (key !== lastKey) {
    setLastKey(key);
    setCursors([undefined]);
  }
  const loaded = useLoad(() => api.get<Page<T>>(path, { ...query, limit, cursor }), [key, cursor]);
  const next = loaded.data?.next_cursor ?? null;
  const pager = (label: string) => (
    <Pager
      label={label}
      hasPrev={cursors.length > 1}
      hasNext={!!next}
      onPrev={() => setCursors((c) => c.slice(0, -1))}
      onNext={() => next && setCursors((c) => [...c, next])}
    />
  );
  return { ...loaded, items: loaded.data?.items ?? [], pager, page: cursors.length };
}
