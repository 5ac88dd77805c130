// The React binding through the package's exports, bundled by esbuild with
// React left external (an optional peer dependency this app has not installed).
export { SessionProvider, useSession } from 'cleanslate-session/react';
