// Types for cleanslate-session/react. They describe React values by shape
// and import nothing from 'react', so they compile with or without
// @types/react.
import type { LoginResult, LogoutResult, Session, User } from './cleanslate.js';

/** What SessionProvider needs of a TanStack Query `QueryClient`. */
export interface ResettableQueryClient {
  cancelQueries(): unknown;
  clear(): void;
}

export interface SessionProviderProps {
  session: Session;
  /** Cancelled and cleared (`cancelQueries()`, then `clear()`) whenever the session resets. */
  queryClient?: ResettableQueryClient | null;
  children?: unknown;
}

/** A React element, by shape (`type`, `props`, `key`), as React's own types declare it. */
export interface SessionProviderElement {
  type: any;
  props: any;
  key: string | null;
}

/**
 * Provides the session to useSession() and remounts everything under it
 * (a new React key) whenever the signed-in user changes: logout, expiry,
 * another tab's logout, a switch of user, login.
 */
export function SessionProvider(props: SessionProviderProps): SessionProviderElement;

export interface SessionState {
  /** `session.user`: the same object until the user changes. */
  user: User | null;
  isAuthenticated: boolean;
  /** Stable: the same function on every render. */
  login(email: string, password: string): Promise<LoginResult>;
  /** Stable: the same function on every render. */
  logout(): Promise<LogoutResult>;
  session: Session;
}

/** The session of the nearest SessionProvider; throws outside one. */
export function useSession(): SessionState;
