// A browser app built against the installed package: one session, login →
// profile → logout against the API on the page's own origin; the outcome is
// left in window.appResult and #result for the test to read.
import { createSession, SessionError } from 'cleanslate-session';

async function run() {
  const session = await createSession({ apiBase: '/api/v1' });
  const login = await session.login('userA@test.com', 'password');
  const profile = await session.get('/user/profile');
  const logout = await session.logout();
  session.dispose();
  return {
    login,
    profile: { status: profile.status, data: profile.data },
    logout,
    sessionError: new SessionError('network') instanceof Error,
  };
}

run().then(
  (result) => {
    window.appResult = result;
    document.getElementById('result').textContent = JSON.stringify(result);
  },
  (error) => {
    window.appResult = { error: String((error && error.stack) || error) };
    document.getElementById('result').textContent = window.appResult.error;
  },
);
