/* /account: sign in (an address not confirmed yet goes to the confirmation step, with the
 * password just typed); then the names, language and registration fields (smart groups follow
 * them), the roles held (what this person manages), the groups, the password, the address (confirmed with a code) and signing out.
 *
 * The session lives in the HttpOnly cookie (resident.js): this page never holds its token.
 */
import { startConfirmStep } from "./confirm-step.js";
import {
  $,
  ERRORS,
  Form,
  ServerFailed,
  element,
  endSession,
  failureMessage,
  fieldValue,
  graphql,
  keepSession,
  pageLanguage,
  plural,
  registration,
  registrationField,
  reloadIn,
  showStep,
  t,
  wirePasswordSwitches,
} from "./resident.js";

// Titles (groups, registration fields, options) in the page's language.
const USER = `email firstName lastName locale
  registrationFieldValues { key value }
  roles { kind project { title } }
  groups { title(locale: $locale) }`;

const ACCOUNT = `query Account($locale: String) {
  me { ${USER} }
  registrationFields {
    key title(locale: $locale) type required options { key title(locale: $locale) }
  }
}`;

const SIGN_IN = `mutation SignIn($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { session { token user { locale } } ${ERRORS} }
}`;

const UPDATE = `mutation UpdateProfile($input: ProfileInput!, $locale: String) {
  updateProfile(input: $input) { user { ${USER} } ${ERRORS} }
}`;

const CHANGE_PASSWORD = `mutation ChangePassword($currentPassword: String!, $newPassword: String!) {
  changePassword(currentPassword: $currentPassword, newPassword: $newPassword) { ok ${ERRORS} }
}`;

const CHANGE_EMAIL = `mutation ChangeEmail($email: String!, $password: String!) {
  changeEmail(email: $email, password: $password) { ok ${ERRORS} }
}`;

const CONFIRM_EMAIL_CHANGE = `mutation ConfirmEmailChange($code: String!) {
  confirmEmailChange(code: $code) { session { token user { email } } ${ERRORS} }
}`;

const steps = ["step-sign-in", "step-confirm", "step-account"];
const show = (step, focus) => showStep(steps, step, focus);
const loading = $("loading");
const accountNote = $("account-note");
const fieldset = $("registration-fields");

const signIn = new Form($("sign-in-form"), {
  status: $("sign-in-status"),
  progress: $("sign-in-progress"),
  fields: { email: "email", password: "password" },
  messages: { INVALID_CREDENTIALS: () => t("account.wrong_credentials") },
});
const profile = new Form($("profile-form"), {
  status: $("profile-status"),
  progress: $("profile-progress"),
  fields: { firstName: "firstName", lastName: "lastName", locale: "locale" },
});
const password = new Form($("password-form"), {
  status: $("password-status"),
  progress: $("password-progress"),
  fields: { currentPassword: "currentPassword", newPassword: "newPassword" },
  messages: { INVALID_CREDENTIALS: () => t("account.wrong_password") },
});
const emailChange = new Form($("email-form"), {
  status: $("email-status"),
  progress: $("email-progress"),
  fields: { email: "newEmail", password: "emailPassword" },
  messages: {
    INVALID_CREDENTIALS: () => t("account.wrong_password"),
    INVALID_INPUT: () => t("account.same_email"),
  },
});
const emailCode = new Form($("email-code-form"), {
  status: $("email-code-status"),
  progress: $("email-code-progress"),
  fields: { code: "emailCode" },
  messages: {
    INVALID_CODE: () => t("confirm.invalid_code"),
    EMAIL_TAKEN: () => t("account.email_taken"),
  },
});

let fields = [];

// -- Signed out

const showSignIn = (noteWords = "") => {
  $("sign-in-note").textContent = noteWords;
  $("password").value = "";
  show("step-sign-in", noteWords ? $("sign-in-title") : null);
};

signIn.form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const email = $("email").value.trim();
  const typed = $("password").value;
  $("sign-in-note").textContent = "";
  const answer = await signIn.submit(t("account.signing_in"), async () => {
    const result = (await graphql(SIGN_IN, { email, password: typed })).signIn;
    if (result.session) {
      await keepSession(result.session.token);
    }
    return result;
  });
  if (!answer) {
    return;
  }
  if (answer.errors.some((error) => error.code === "EMAIL_NOT_CONFIRMED")) {
    // The password of a registration whose address waits for its code: confirm it here.
    const stored = registration.load(email);
    startConfirmStep(stored ? { ...stored, password: typed } : { email, password: typed }, {
      show,
      onConfirmed: (user) => signedIn(user.locale),
    });
    $("password").value = "";
    return;
  }
  if (answer.errors.length || !answer.session) {
    signIn.showErrors(
      answer.errors.map((error) => ({
        ...error,
        field: error.code === "INVALID_EMAIL" ? "email" : null,
      })),
    );
    return;
  }
  $("password").value = "";
  signedIn(answer.session.user.locale);
});

// The page came again in the account's language, just after signing in.
const SIGNED_IN = "#signed-in";

const signedIn = (locale) => {
  // The account's language, unless the reader picked one (?lang=).
  if (!reloadIn(locale, SIGNED_IN)) {
    load(true);
  }
};

// -- Signed in

const showUser = (user) => {
  $("signed-in-as").textContent = t("account.signed_in_as", { email: user.email });
  $("email-now").textContent = t("account.email_now", { email: user.email });
  $("firstName").value = user.firstName;
  $("lastName").value = user.lastName;
  const locale = $("locale");
  if (Array.from(locale.options).some((option) => option.value === user.locale)) {
    locale.value = user.locale;
  }
  const values = new Map(
    user.registrationFieldValues.map(({ key, value }) => [key, JSON.parse(value)]),
  );
  for (const key of Array.from(profile.fields.keys())) {
    if (key.startsWith("registrationFieldValues.")) {
      profile.fields.delete(key);
    }
  }
  for (const node of Array.from(fieldset.children)) {
    if (node.tagName !== "LEGEND") {
      node.remove();
    }
  }
  const unanswered = [];
  for (const field of fields) {
    const value = values.get(field.key);
    const { wrapper, entry } = registrationField(field, {
      required: field.required,
      value,
      choose: t("invite.choose"),
    });
    profile.add(`registrationFieldValues.${field.key}`, entry);
    fieldset.append(wrapper);
    if (field.required && !answered(field, value)) {
      // A question made required since this account last saved: said beside it.
      const note = element("p", { id: `${entry.input.id}-new`, class: "field-new" }, t("account.field_new"));
      entry.error.before(note);
      entry.input.setAttribute("aria-describedby", `${note.id} ${entry.error.id}`);
      unanswered.push(field.title);
    }
  }
  fieldset.hidden = fields.length === 0;
  showNeeded(unanswered);
  showRoles(user.roles);
  showGroups(user.groups);
};

/** Whether a registration field has the answer a required one needs. */
const answered = (field, value) =>
  field.type === "CHECKBOX"
    ? value === true
    : value !== undefined && value !== null && String(value).trim() !== "";

/** The notice at the top: the required questions this account has no answer to yet. */
const showNeeded = (titles) => {
  const notice = $("fields-needed");
  notice.textContent = titles.length
    ? plural("account.fields_needed", titles.length, { fields: titles.join(", ") })
    : "";
  notice.hidden = titles.length === 0;
};

/** The roles this person holds (their own only: `me`): the platform, the projects managed. */
const showRoles = (roles) => {
  const items = [];
  if (roles.some((role) => role.kind === "ADMIN")) {
    items.push(element("li", {}, t("account.role_admin")));
  }
  const projects = roles
    .filter((role) => role.kind === "PROJECT_MANAGER" && role.project)
    .map((role) => role.project.title)
    .sort((a, b) => a.localeCompare(b, pageLanguage()));
  for (const project of projects) {
    items.push(element("li", {}, t("account.role_project_manager", { project })));
  }
  $("roles-list").replaceChildren(...items);
  $("roles").hidden = items.length === 0;
};

const showGroups = (groups) => {
  const list = $("groups");
  list.replaceChildren(...groups.map((group) => element("li", {}, group.title)));
  list.hidden = groups.length === 0;
  const none = $("groups-none");
  none.hidden = groups.length > 0;
  none.textContent = groups.length ? "" : t("account.groups_none");
};

const load = async (justSignedIn) => {
  let data;
  try {
    data = await graphql(ACCOUNT, { locale: pageLanguage() });
  } catch (error) {
    loading.textContent = failureMessage(error);
    return;
  }
  loading.textContent = "";
  if (!data.me) {
    showSignIn();
    return;
  }
  // Opened from a mail (another site's link: no cookie on that request), the page may speak
  // the browser's language: the account's wins unless the reader picked one.
  if (!justSignedIn && reloadIn(data.me.locale, window.location.hash)) {
    return;
  }
  const arrived = window.location.hash === SIGNED_IN;
  if (arrived) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  fields = data.registrationFields;
  showUser(data.me);
  // Just signed in: the focus on what needs an answer first, if anything does.
  const needed = $("fields-needed");
  if (!needed.hidden && (justSignedIn || arrived)) {
    show("step-account", needed);
  } else {
    show("step-account", justSignedIn ? $("profile-title") : null);
  }
  if (window.location.hash === "#saved") {
    // Saved in a new language, the page came again in it: say so where the focus is.
    accountNote.textContent = t("account.saved");
    accountNote.setAttribute("tabindex", "-1");
    accountNote.focus();
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
};

/** A request of the signed-in page: a session that ended meanwhile leads to signing in. */
const signedInRequest = (query, variables) => async () => {
  try {
    return await graphql(query, variables);
  } catch (error) {
    if (error instanceof ServerFailed && !(await stillSignedIn())) {
      showSignIn(t("account.signed_out"));
      return null;
    }
    throw error;
  }
};

const stillSignedIn = async () => {
  try {
    return Boolean((await graphql("query { me { email } }", {})).me);
  } catch {
    return true;
  }
};

profile.form.addEventListener("submit", async (event) => {
  event.preventDefault();
  accountNote.textContent = "";
  const locale = $("locale").value;
  const input = {
    firstName: $("firstName").value,
    lastName: $("lastName").value,
    locale,
    registrationFieldValues: Array.from(profile.fields.values())
      .filter((field) => field.key)
      .map((field) => ({ key: field.key, value: fieldValue(field) })),
  };
  const data = await profile.submit(t("account.saving"), signedInRequest(UPDATE, { input, locale: pageLanguage() }));
  if (!data) {
    return;
  }
  const answer = data.updateProfile;
  if (answer.errors.length || !answer.user) {
    profile.showErrors(answer.errors);
    return;
  }
  if (locale.toLowerCase() !== document.documentElement.lang.toLowerCase()) {
    // A new language: the page again, in it.
    const params = new URLSearchParams(window.location.search);
    params.set("lang", locale);
    window.location.replace(`${window.location.pathname}?${params}#saved`);
    return;
  }
  showUser(answer.user);
  profile.progress.textContent = t("account.saved");
});

password.form.addEventListener("submit", async (event) => {
  event.preventDefault();
  accountNote.textContent = "";
  const variables = {
    currentPassword: $("currentPassword").value,
    newPassword: $("newPassword").value,
  };
  const data = await password.submit(
    t("account.saving"),
    signedInRequest(CHANGE_PASSWORD, variables),
  );
  if (!data) {
    return;
  }
  const answer = data.changePassword;
  if (answer.errors.length) {
    password.showErrors(answer.errors);
    return;
  }
  $("currentPassword").value = "";
  $("newPassword").value = "";
  password.progress.textContent = t("account.password_changed");
});

// The change asked for: its address, and the password typed for it, kept while the code is
// awaited so that a new code can be asked (asking again is how a new code is sent) and so
// that "use another address" brings back what was typed.
let asked = null;
const emailCodeStep = $("email-code-step");
const emailCodeNote = $("email-code-note");

emailChange.form.addEventListener("submit", async (event) => {
  event.preventDefault();
  accountNote.textContent = "";
  const variables = { email: $("newEmail").value.trim(), password: $("emailPassword").value };
  const data = await emailChange.submit(
    t("account.saving"),
    signedInRequest(CHANGE_EMAIL, variables),
  );
  if (!data) {
    return;
  }
  const answer = data.changeEmail;
  if (answer.errors.length) {
    emailChange.showErrors(answer.errors);
    return;
  }
  asked = variables;
  $("emailPassword").value = "";
  emailCode.clear();
  emailCodeNote.textContent = "";
  $("emailCode").value = "";
  emailCodeStep.hidden = false;
  emailChange.form.hidden = true;
  const intro = $("email-code-intro");
  intro.textContent = t("account.email_code_intro", { email: asked.email });
  intro.focus();
});

$("email-resend").addEventListener("click", async (event) => {
  emailCodeNote.textContent = "";
  event.currentTarget.disabled = true; // one request at a time, as the forms' own buttons
  const data = await emailCode
    .submit(t("confirm.sending"), signedInRequest(CHANGE_EMAIL, asked))
    .finally(() => {
      $("email-resend").disabled = false;
    });
  if (!data) {
    return;
  }
  const answer = data.changeEmail;
  if (answer.errors.length) {
    emailCode.showErrors(answer.errors.map((error) => ({ ...error, field: null })));
    return;
  }
  $("emailCode").value = "";
  emailCodeNote.textContent = t("confirm.resent", { email: asked.email });
});

$("email-other").addEventListener("click", () => {
  // Back to the address form, with what was typed: the code asked for stays unused.
  emailCodeStep.hidden = true;
  emailChange.form.hidden = false;
  emailChange.clear();
  $("newEmail").value = asked ? asked.email : "";
  $("emailPassword").value = asked ? asked.password : "";
  asked = null;
  emailChange.progress.textContent = t("account.email_other_note");
  $("newEmail").focus();
});

emailCode.form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = $("emailCode").value.replace(/[\s-]+/g, "");
  if (!code) {
    emailCode.clear();
    emailCode.fieldProblem("code", t("confirm.code_empty"));
    return;
  }
  const data = await emailCode.submit(t("confirm.confirming"), async () => {
    const result = await signedInRequest(CONFIRM_EMAIL_CHANGE, { code })();
    const session = result && result.confirmEmailChange.session;
    if (session) {
      // Every earlier session ended, this page's too: keep the new one.
      await keepSession(session.token);
    }
    return result;
  });
  if (!data) {
    return;
  }
  const answer = data.confirmEmailChange;
  if (answer.errors.length || !answer.session) {
    emailCode.showErrors(answer.errors);
    return;
  }
  const { email } = answer.session.user;
  asked = null;
  emailCodeStep.hidden = true;
  emailChange.form.hidden = false;
  $("newEmail").value = "";
  $("signed-in-as").textContent = t("account.signed_in_as", { email });
  $("email-now").textContent = t("account.email_now", { email });
  accountNote.textContent = t("account.email_changed", { email });
  $("email-title").focus();
});

$("sign-out").addEventListener("click", async () => {
  try {
    await endSession();
  } catch (error) {
    accountNote.textContent = failureMessage(error);
    return;
  }
  showSignIn(t("account.signed_out"));
});

wirePasswordSwitches();
load(false);
