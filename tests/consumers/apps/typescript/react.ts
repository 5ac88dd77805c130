// A TypeScript consumer of cleanslate-session/react, compiled with tsc
// --strict --noEmit beside check.ts (never run). The project has no React and
// no @types/react, as the binding's types need neither; it uses every type
// the entry exports, and each @ts-expect-error line proves one is narrower
// than `any`.
import { createSession, type Session } from 'cleanslate-session';
import {
  SessionProvider,
  useSession,
  type ResettableQueryClient,
  type SessionProviderElement,
  type SessionProviderProps,
  type SessionState,
} from 'cleanslate-session/react';

const session: Session = await createSession({ apiBase: '/api/v1' });
const queryClient: ResettableQueryClient = { cancelQueries: () => Promise.resolve(), clear: () => {} };
const props: SessionProviderProps = { session, queryClient, children: 'app' };
const element: SessionProviderElement = SessionProvider(props);
const key: string | null = element.key;
SessionProvider({ session });
SessionProvider({ session, queryClient: null });

// @ts-expect-error: a provider needs a session
SessionProvider({ queryClient });
// @ts-expect-error: a query client must have clear()
const noClear: ResettableQueryClient = { cancelQueries: () => undefined };
// @ts-expect-error: the session must be a Session
SessionProvider({ session: { user: null } });

function Account(): string {
  const state: SessionState = useSession();
  const signedIn: boolean = state.isAuthenticated;
  const same: Session = state.session;
  // @ts-expect-error: user is null when nobody is signed in
  state.user.email;
  if (state.user) {
    const email: string = state.user.email;
  }
  state.login('userA@test.com', 'password').then((result) => {
    if (result.success) {
      const name: string | undefined = result.user.name;
    }
  });
  // @ts-expect-error: the password is a string
  state.login('userA@test.com', 42);
  state.logout().then((result) => result.success);
  // @ts-expect-error: the state is read by value, not a function
  state();
  return signedIn && same === session ? 'in' : 'out';
}

export const rendered: string = Account() + String(key);
