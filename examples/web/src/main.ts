import "./style.css";
import { refreshSession } from "./api";
import { account } from "./pages/account";
import { authCallback } from "./pages/auth-callback";
import { register } from "./pages/register";
import { signIn } from "./pages/sign-in";
import { totpStep } from "./pages/totp-step";
import { verifyEmail } from "./pages/verify-email";
import { startRouter } from "./router";

// A reload forgets the access token: the session cookie, if any, brings a new one.
await refreshSession().catch(() => false);
await startRouter([signIn, totpStep, authCallback, register, verifyEmail, account]);
