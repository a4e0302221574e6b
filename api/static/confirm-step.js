/* The confirmation step of /invite and /account: the code mailed to a registration's address,
 * typed; a new code; another address for a mistyped one. Ends with the session kept in the
 * cookie (resident.js) and `onConfirmed(user)`.
 *
 * A registration is { email, token } (a letter's code or a sign-up made in this browser: the
 * token proves it) or { email, password } (the password just typed to sign in).
 */
import {
  $,
  ERRORS,
  Form,
  graphql,
  invalidCodeWords,
  keepSession,
  registration,
  t,
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

const CHANGE = `mutation ChangeRegistrationEmail(
  $email: String!, $currentEmail: String, $password: String
) {
  changeRegistrationEmail(email: $email, currentEmail: $currentEmail, password: $password) {
    registration { token email expiresAt }
    ${ERRORS}
  }
}`;

let current = null;
let confirmed = () => {};

const section = $("step-confirm");
const codeForm = new Form($("confirm-form"), {
  status: $("confirm-status"),
  progress: $("confirm-progress"),
  fields: { code: "confirm-code" },
  messages: {
    INVALID_CODE: invalidCodeWords,
    PASSWORD_REQUIRED: () => t("confirm.wrong_password"),
    INVALID_CREDENTIALS: () => t("confirm.wrong_password"),
  },
});
const changeToggle = $("confirm-change");
const changeForm = new Form($("confirm-change-form"), {
  status: $("confirm-note"),
  fields: { email: "confirm-email" },
  messages: { INVALID_CREDENTIALS: () => t("confirm.wrong_password") },
});
const note = $("confirm-note");

const describe = () => {
  $("confirm-intro").textContent = t("confirm.step_intro", { email: current.email });
};

const bearer = () => (current.token ? { bearer: current.token } : {});

/** Show the step for a registration; `show` hides the page's other steps. */
export const startConfirmStep = (claim, { show, onConfirmed }) => {
  current = { ...claim };
  confirmed = onConfirmed;
  if (current.token) {
    registration.save(current);
  }
  describe();
  codeForm.clear();
  note.textContent = "";
  $("confirm-code").value = "";
  closeChange();
  show("step-confirm");
  $("confirm-title").focus();
};

const closeChange = () => {
  changeForm.form.hidden = true;
  changeToggle.setAttribute("aria-expanded", "false");
};

if (section) {
  codeForm.form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = $("confirm-code").value.replace(/[\s-]+/g, "");
    if (!code) {
      codeForm.clear();
      codeForm.fieldProblem("code", t("confirm.code_empty"));
      return;
    }
    const variables = { email: current.email, code, password: current.password || null };
    const answer = await codeForm.submit(t("confirm.confirming"), async () => {
      const result = (await graphql(CONFIRM, variables, bearer())).confirmEmail;
      if (result.session) {
        await keepSession(result.session.token);
      }
      return result;
    });
    if (!answer) {
      return;
    }
    if (answer.errors.length || !answer.session) {
      codeForm.showErrors(answer.errors);
      return;
    }
    registration.forget();
    current = null;
    confirmed(answer.session.user);
  });

  $("confirm-resend").addEventListener("click", async () => {
    note.textContent = t("confirm.sending");
    let answer;
    try {
      answer = (await graphql(RESEND, { email: current.email }, bearer()))
        .requestEmailConfirmation;
    } catch (error) {
      note.textContent = "";
      codeForm.clear();
      codeForm.status.textContent = t("invite.failed");
      return;
    }
    if (answer.errors.length) {
      note.textContent = "";
      codeForm.clear();
      codeForm.showErrors(answer.errors.map((error) => ({ ...error, field: null })));
      return;
    }
    note.textContent = t("confirm.resent", { email: current.email });
  });

  changeToggle.addEventListener("click", () => {
    const opening = changeForm.form.hidden;
    changeForm.form.hidden = !opening;
    changeToggle.setAttribute("aria-expanded", opening ? "true" : "false");
    if (opening) {
      note.textContent = "";
      $("confirm-email").value = current.email;
      $("confirm-email").focus();
    }
  });

  changeForm.form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = $("confirm-email").value.trim();
    const variables = current.token
      ? { email }
      : { email, currentEmail: current.email, password: current.password };
    const answer = await changeForm.submit("", async () =>
      (await graphql(CHANGE, variables, bearer())).changeRegistrationEmail,
    );
    if (!answer) {
      return;
    }
    if (answer.errors.length || !answer.registration) {
      changeForm.showErrors(answer.errors);
      return;
    }
    // A registration moved by its password gets a new token: this browser keeps it.
    current = { ...answer.registration, password: current.password };
    registration.save(current);
    describe();
    closeChange();
    note.textContent = t("confirm.changed", { email: current.email });
    $("confirm-code").value = "";
    $("confirm-code").focus();
  });
}
