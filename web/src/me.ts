import { createContext, useContext } from 'react';
import { Me } from './api';

export const MeContext = createContext<Me>({ id: '', name: '', role: 'viewer' });
export const useMe = () => useContext(MeContext);
/** Whether the signed-in role may edit (the server decides; this only hides buttons' hints). */
export const canEdit = (me: Me) => me.role === 'admin' || me.role === 'contributor';
