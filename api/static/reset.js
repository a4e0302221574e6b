/* /reset-password: ask for a link to choose a new password (the same answer for every
 * address); with the mail's `#token=…`, choose it, and end signed in (every other session of
 * the account ends).
 */
import {
  $,
  ERRORS,
  Form,
  graphql,
  keepSession,
  landingUrl,
  plural,
  showStep,
  t,
  takeFragment,
  wirePasswordSwitches,
} from "./resident.js";

const REQUEST = `mutation RequestPasswordReset($email: String!) {
  requestPasswordReset(email: $email) { ok ${ERRORS} }
}`;

const USABLE = `query PasswordResetLinkUsable($token: String!) {
  passwordResetLinkUsable(token: $token)
}`;

const RESET = `mutation ResetPassword($token: String!, $password: String!) {
  resetPassword(token: $token, password: $password) {
    session { token user { locale } }
    ${ERRORS}
  }
}`;

const steps = ["step-request", "step-sent", "step-choose", "step-done"];
const show = (step, focus) => showStep(steps, step, focus);
const request = new Form($("request-form"), {
  status: $("request-status"),
  progress: $("request-progress"),
  fields: { email: "email" },
});
const choose = new Form($("choose-form"), {
  status: $("choose-status"),
  progress: $("choose-progress"),
  fields: { password: "password" },
});

let token = null;

request.form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const email = $("email").value.trim();
  if (!email) {
    request.clear();
    request.showErrors([{ code: "INVALID_EMAIL", field: "email" }]);
    return;
  }
  const answer = await request.submit(t("reset.sending"), async () =>
    (await graphql(REQUEST, { email })).requestPasswordReset,
  );
  if (!answer) {
    return;
  }
  if (answer.errors.length) {
    request.showErrors(answer.errors);
    return;
  }
  const text = $("sent-text");
  text.textContent = plural("reset.sent", Number(text.dataset.minutes), { email });
  show("step-sent", $("sent-title"));
});

$("again").addEventListener("click", () => {
  // The address stays: the one who suspects a typo corrects it rather than typing it again.
  $("expired").hidden = true;
  show("step-request", $("email"));
});

choose.form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const password = $("password").value;
  const answer = await choose.submit(t("reset.saving"), async () => {
    const result = (await graphql(RESET, { token, password })).resetPassword;
    if (result.session) {
      await keepSession(result.session.token);
    }
    return result;
  });
  if (!answer) {
    return;
  }
  if (answer.errors.some((error) => error.code === "INVALID_RESET_TOKEN")) {
    linkUsedUp();
    return;
  }
  if (answer.errors.length || !answer.session) {
    choose.showErrors(answer.errors);
    return;
  }
  token = null;
  $("password").value = "";
  const next = $("done-next");
  if ("landing" in next.dataset) {
    next.href = landingUrl(answer.session.user.locale);
  }
  show("step-done", $("done-title"));
});

const linkUsedUp = () => {
  token = null;
  $("expired").hidden = false;
  show("step-request", $("expired-title"));
};

wirePasswordSwitches();

// The mail's link: its token, taken out of the address bar at once (and never sent in a URL).
token = takeFragment().get("token");
if (token) {
  show("step-choose", $("choose-title"));
  // A link used already, or too old, is said at once, before a password is typed for nothing
  // (if the question fails, the answer to the new password says it).
  graphql(USABLE, { token })
    .then((answer) => {
      if (answer.passwordResetLinkUsable === false && token) {
        linkUsedUp();
      }
    })
    .catch(() => {});
}
