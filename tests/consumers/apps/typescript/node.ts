// The package in a Node project whose lib has no DOM (tsc --lib es2022, no
// @types/node): its types must compile without the DOM's declarations.
import { createSession, SessionError, type LoginResult, type Session } from 'cleanslate-session';

const session: Session = await createSession({ apiBase: 'http://127.0.0.1:8080/api/v1', storage: 'memory' });
const login: LoginResult = await session.login('userA@test.com', 'password');
try {
  await session.get<{ email: string }>('/user/profile');
} catch (error) {
  if (error instanceof SessionError && error.code === 'network') session.dispose();
}
export const ok: boolean = login.success;
