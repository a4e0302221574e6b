/* /confirm: the link in a code's mail (`#email=…&code=…`) confirms the address in one click
 * when this browser made the registration (its token is kept: resident.js); otherwise the
 * password chosen when registering proves who is confirming. Ends signed in.
 *
 * Signed in already (the page reloaded after confirming), the page says the address is
 * confirmed (step-signed-in, from the server), unless the link is for another address. A
 * link whose code already confirmed its address says so, and leads to signing in.
 */
import {
  $,
  ERRORS,
  Form,
  graphql,
  invalidCodeWords,
  keepSession,
  landingUrl,
  registration,
  showStep,
  t,
  takeFragment,
  wirePasswordSwitches,
} from "./resident.js";

const CONFIRM = `mutation ConfirmEmail($email: String!, $code: String!, $password: String) {
  confirmEmail(email: $email, code: $code, password: $password) {
    session { token user { email locale } }
    ${ERRORS}
  }
}`;

const RESEND = `mutation RequestEmailConfirmation($email: String!) {
  requestEmailConfirmation(email: $email) { ok ${ERRORS} }
}`;

const steps = ["step-signed-in", "step-form", "step-already", "step-done"].filter((id) => $(id));
const working = $("working");
const passwordPart = $("password-part");
const form = new Form($("form"), {
  status: $("form-status"),
  progress: $("form-progress"),
  fields: { email: "email", code: "code", password: "password" },
  messages: {
    INVALID_CODE: invalidCodeWords,
    INVALID_CREDENTIALS: () => t("confirm.wrong_password"),
    PASSWORD_REQUIRED: () => t("confirm.password_needed"),
  },
});

const askPassword = () => {
  passwordPart.hidden = false;
};

const alreadyConfirmed = (email) => {
  $("already-message").textContent = t("confirm.already", { email });
  showStep(steps, "step-already", $("already-title"));
};

/** Confirm what the form holds. `checking`: the mail's link, opened in a browser that did not
 * register: without a password, the answer says whether one is needed (or the code is used). */
const confirm = async ({ checking = false } = {}) => {
  const email = $("email").value.trim();
  const code = $("code").value.replace(/[\s-]+/g, "");
  if (!email || !code) {
    form.clear();
    form.showErrors([
      ...(email ? [] : [{ code: "INVALID_EMAIL", field: "email" }]),
      ...(code ? [] : [{ code: "PAGE", message: t("confirm.code_empty"), field: "code" }]),
    ]);
    return;
  }
  const stored = registration.load(email);
  const password = passwordPart.hidden ? null : $("password").value;
  const answer = await form.submit(t("confirm.confirming"), async () => {
    const result = (
      await graphql(
        CONFIRM,
        { email, code, password },
        stored && !password ? { bearer: stored.token } : {},
      )
    ).confirmEmail;
    if (result.session) {
      await keepSession(result.session.token);
    }
    return result;
  });
  working.textContent = "";
  if (!answer) {
    return;
  }
  if (answer.errors.length || !answer.session) {
    if (answer.errors.some((error) => error.code === "EMAIL_ALREADY_CONFIRMED")) {
      alreadyConfirmed(email);
      return;
    }
    const needsPassword = answer.errors.some((error) => error.code === "PASSWORD_REQUIRED");
    // A registration cancelled (its letter's code typed again): no password brings it back.
    const cancelled = answer.errors.some((error) => error.reason === "LETTER_CODE_USED_AGAIN");
    if (needsPassword || (checking && !cancelled)) {
      // Not the browser that registered (or its token is gone): the password says who it is.
      askPassword();
    }
    if (needsPassword && checking) {
      $("password").focus();
      return;
    }
    form.showErrors(answer.errors);
    return;
  }
  registration.forget();
  const next = $("done-next");
  if ("landing" in next.dataset) {
    next.href = landingUrl(answer.session.user.locale);
  }
  showStep(steps, "step-done", $("done-title"));
};

form.form.addEventListener("submit", (event) => {
  event.preventDefault();
  confirm();
});

$("resend").addEventListener("click", async () => {
  const note = $("resend-note");
  const email = $("email").value.trim();
  form.clear();
  if (!email) {
    form.showErrors([{ code: "INVALID_EMAIL", field: "email" }]);
    return;
  }
  const stored = registration.load(email);
  note.textContent = t("confirm.sending");
  let answer;
  try {
    answer = (await graphql(RESEND, { email }, stored ? { bearer: stored.token } : {}))
      .requestEmailConfirmation;
  } catch {
    note.textContent = t("invite.failed");
    return;
  }
  if (answer.errors.length) {
    note.textContent = "";
    form.showErrors(answer.errors);
    return;
  }
  note.textContent = t("confirm.resent", { email });
});

wirePasswordSwitches();

// A mail's link pasted into the address bar of this page changes only the fragment: read it.
window.addEventListener("hashchange", () => window.location.reload());

// The mail's link: its address and code, taken out of the address bar at once.
const link = takeFragment();
const email = link.get("email");
const code = link.get("code");
const signedIn = $("step-signed-in");
const sameAddress = (a, b) => a.trim().toLowerCase() === b.trim().toLowerCase();
if (signedIn && (!email || sameAddress(email, signedIn.dataset.email))) {
  // Signed in with this address: it is confirmed; the server's step says so.
} else {
  if (signedIn) {
    // A link for another address than the one signed in: its form.
    showStep(steps, "step-form");
  }
  if (email) {
    $("email").value = email;
  }
  if (code) {
    $("code").value = code;
  }
  const stored = registration.load(email || undefined);
  if (!stored && !(email && code)) {
    askPassword();
  } else if (!email) {
    $("email").value = stored.email;
  }
  if (email && code) {
    // One click when this browser made the registration; otherwise the answer says whether
    // the password is needed, or that the code has already confirmed the address.
    working.textContent = t("confirm.confirming");
    confirm({ checking: !stored });
  }
}
