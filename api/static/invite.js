/* The /invite page's behaviour: check the code here, then ask /graphql (POST, JSON) and register;
 * a letter's code continues to the confirmation step (confirm-step.js). Each step the reader
 * moves on to (the code, the profile or the sign-in, the confirmation) is an entry of the
 * browser's history: Back and Forward move between them, with what was typed (never a
 * password).
 *
 * The token never goes into a URL sent to a server: it comes from the fragment or the code field
 * and travels only in the JSON body of POST /graphql. Everything from the server is written with
 * textContent or .value, never as markup.
 */
import { startConfirmStep } from "./confirm-step.js";
import {
  $,
  ERRORS,
  Form,
  failureMessage,
  fieldValue,
  graphql,
  keepSession,
  landingUrl,
  messageFor,
  pageLanguage,
  registration,
  registrationField,
  showStep,
  t,
  wirePasswordSwitches,
} from "./resident.js";

// ---------------------------------------------------------------------------------------
// Tokens: an exact port of domain/invitations/tokens.py (keep the two in step).

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; // Crockford: no I, L, O, U
const RANDOM_SYMBOLS = 14;
const LENGTH = RANDOM_SYMBOLS + 1;
const GROUP = 5;
const VALUE = new Map(Array.from(ALPHABET, (symbol, index) => [symbol, index]));
const IGNORED = /[ \-\t\r\n\u00a0\u2010\u2011\u2012\u2013\u2014_.]/g;

// GF(32) built on the primitive polynomial x^5 + x^2 + 1.
const EXP = new Array(62).fill(0);
const LOG = new Array(32).fill(0);
{
  let x = 1;
  for (let power = 0; power < 31; power += 1) {
    EXP[power] = x;
    LOG[x] = power;
    x <<= 1;
    if (x & 0b100000) {
      x ^= 0b100101;
    }
  }
  for (let power = 31; power < 62; power += 1) {
    EXP[power] = EXP[power - 31];
  }
}

const mul = (a, b) => (a === 0 || b === 0 ? 0 : EXP[LOG[a] + LOG[b]]);

const weightedSum = (values) =>
  values.reduce((total, value, position) => total ^ mul(value, EXP[position]), 0);

/** Upper case, spaces and dashes dropped, O read as 0 and I/L as 1. */
const normalize = (raw) =>
  raw.replace(IGNORED, "").toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1");

/**
 * The code in a pasted link (the letter's QR code, as a reader app shows it):
 * `https://…/invite#token=CODE` or `?token=CODE`; null when `raw` is no such link.
 */
const codeInLink = (raw) => {
  const found = /[#?&]token=([^&#\s]*)/i.exec(raw);
  if (!found) {
    return null;
  }
  try {
    return decodeURIComponent(found[1].replace(/\+/g, " "));
  } catch {
    return found[1];
  }
};

/** {token} in canonical form, or {problem: "malformed" | "check_failed"}. */
const parse = (raw) => {
  // Python counts code points, not UTF-16 units.
  if (Array.from(raw).length > 64) {
    return { problem: "malformed" };
  }
  const token = normalize(raw);
  const symbols = Array.from(token);
  if (symbols.length !== LENGTH || !symbols.every((symbol) => VALUE.has(symbol))) {
    return { problem: "malformed" };
  }
  if (weightedSum(symbols.map((symbol) => VALUE.get(symbol))) !== 0) {
    return { problem: "check_failed" };
  }
  return { token };
};

const display = (token) => {
  const groups = [];
  for (let i = 0; i < token.length; i += GROUP) {
    groups.push(token.slice(i, i + GROUP));
  }
  return groups.join("-");
};

/**
 * The code box as typed so far, with a dash after every fifth symbol, and where the caret
 * goes: after as many symbols as were before it. Separators typed or pasted are dropped,
 * other characters kept (the check names a slip); case is left to the CSS.
 */
const formatAsTyped = (raw, caret) => {
  const symbolsBefore = raw.slice(0, caret).replace(IGNORED, "").length;
  const symbols = raw.replace(IGNORED, "");
  let value = "";
  let position = 0;
  for (let i = 0; i < symbols.length; i += 1) {
    if (i > 0 && i % GROUP === 0) {
      value += "-";
    }
    value += symbols[i];
    if (i + 1 === symbolsBefore) {
      position = value.length;
    }
  }
  return { value, caret: position };
};

// The browser tests compare this port with the Python original.
window.inviteToken = Object.freeze({ normalize, parse, display, formatAsTyped, codeInLink });


// ---------------------------------------------------------------------------------------------
// GraphQL

// Registration fields' titles in the page's language (or the platform's default one).
const BY_TOKEN = `query InvitationByToken($token: String!, $locale: String) {
  invitationByToken(token: $token) {
    valid
    invitation {
      email firstName lastName locale codeOnly hasAccount waitingAddress
      requiredFields { key title(locale: $locale) type options { key title(locale: $locale) } }
    }
    errors { code message field retryAfter }
  }
}`;

const SIGN_IN = `mutation SignIn($email: String!, $password: String!) {
  signIn(email: $email, password: $password) {
    session { token user { locale } }
    ${ERRORS}
  }
}`;

const ACCEPT = `mutation AcceptInvitation($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) {
    session { token }
    registration { token email expiresAt }
    ${ERRORS}
  }
}`;

// ---------------------------------------------------------------------------------------------
// The page

const steps = [
  "step-code",
  "step-unusable",
  "step-profile",
  "step-sign-in",
  "step-confirm",
  "step-done",
];
const show = (step, focus) => showStep(steps, step, focus);

/** Move on to a step the reader can come back to with Back: a new history entry (the same
 * address: the token never goes into it). `replace`: the page opening on it (a link, a reload)
 * adds no entry. */
const moveTo = (step, focus, { replace = false } = {}) => {
  const state = { invite: step };
  if (replace) {
    window.history.replaceState(state, "");
  } else if (window.history.state?.invite !== step) {
    window.history.pushState(state, "");
  }
  show(step, focus);
};
const codeForm = $("code-form");
const codeInput = $("code");
const codeError = $("code-error");
const codeStatus = $("code-status");
const fieldset = $("registration-fields");
const profile = new Form($("profile-form"), {
  status: $("profile-status"),
  progress: $("profile-progress"),
  fields: {
    email: "email",
    firstName: "firstName",
    lastName: "lastName",
    password: "password",
    locale: "locale",
  },
});
const signIn = new Form($("sign-in-form"), {
  status: $("sign-in-status"),
  progress: $("sign-in-progress"),
  fields: { email: "account-email", password: "account-password" },
  messages: { INVALID_CREDENTIALS: () => t("invite.wrong_password") },
});

let currentToken = null;
let invitation = null;
// The token of the registration just made: Back to the profile can send it again (typing a
// letter's code again starts its registration over).
let lastToken = null;
let finished = false;

// -- The code

const codeProblem = (message) => {
  codeStatus.textContent = "";
  codeError.textContent = message;
  codeInput.setAttribute("aria-invalid", "true");
  show("step-code");
  codeInput.focus();
};

const clearCodeProblem = () => {
  codeError.textContent = "";
  codeInput.removeAttribute("aria-invalid");
};

const setCodeBusy = (busy) => {
  for (const button of codeForm.querySelectorAll("button")) {
    button.disabled = busy;
  }
  codeForm.setAttribute("aria-busy", busy ? "true" : "false");
};

const checkCode = async (typed, { fromLink = false } = {}) => {
  clearCodeProblem();
  const raw = codeInLink(typed) ?? typed;
  if (!raw.trim()) {
    codeProblem(t("invite.code_empty"));
    return;
  }
  const parsed = parse(raw);
  if (parsed.problem) {
    codeProblem(t("invite.check_code")); // a typing slip: the server is not asked
    return;
  }
  codeStatus.textContent = t("invite.checking");
  setCodeBusy(true);
  let answer;
  try {
    const variables = { token: parsed.token, locale: pageLanguage() };
    answer = (await graphql(BY_TOKEN, variables)).invitationByToken;
  } catch (error) {
    codeProblem(failureMessage(error));
    return;
  } finally {
    setCodeBusy(false);
  }
  codeStatus.textContent = "";
  if (answer.valid) {
    currentToken = parsed.token;
    if (!speakInvitationLanguage(answer.invitation.locale, { typed: !fromLink })) {
      startProfile(answer.invitation, { replace: fromLink });
    }
    return;
  }
  const [first] = answer.errors;
  if (first && (first.code === "RATE_LIMITED" || first.code === "TEMPORARILY_UNAVAILABLE")) {
    codeProblem(messageFor(first));
  } else if (first && first.code === "TOKEN_CHECK_FAILED") {
    codeProblem(t("invite.check_code"));
  } else {
    showUnusable();
  }
};

/**
 * The invitation's language wins over the browser's: reload the page in it, the token in
 * the fragment, unless the reader picked a language with the switch (?lang=). True when
 * the page is being reloaded.
 */
const speakInvitationLanguage = (locale, { typed }) => {
  const params = new URLSearchParams(window.location.search);
  const wanted = String(locale || "").toLowerCase();
  const offered = Array.from(document.querySelectorAll("a[data-locale-link]"), (link) =>
    link.getAttribute("hreflang"),
  );
  const match = offered.find((code) => code.toLowerCase() === wanted);
  if (params.has("lang") || !match || wanted === document.documentElement.lang.toLowerCase()) {
    return false;
  }
  params.set("lang", match);
  if (typed) {
    // Typed, not a link: the page in the new language keeps the code step to come back to.
    try {
      window.sessionStorage.setItem(TYPED_CODE_KEY, display(currentToken));
    } catch {
      // Storage refused: Back leaves the page, as from a link.
    }
  }
  const token = new URLSearchParams({ token: display(currentToken) });
  window.location.replace(`${window.location.pathname}?${params}#${token}`);
  return true;
};

const showUnusable = () => {
  show("step-unusable", $("unusable-title"));
};

const tokenInFragment = () => {
  const hash = window.location.hash.replace(/^#/, "");
  return hash ? new URLSearchParams(hash).get("token") : null;
};

const forgetFragment = () => {
  const { pathname, search } = window.location;
  window.history.replaceState(window.history.state, "", pathname + search); // the step stays
};

// -- The profile

const startProfile = (preview, { replace = false } = {}) => {
  invitation = preview;
  if (preview.hasAccount) {
    startSignIn({ replace });
    return;
  }
  profile.clear();
  const email = $("email");
  email.value = preview.email || "";
  email.readOnly = !preview.codeOnly;
  $("email-fixed").hidden = preview.codeOnly;
  $("email-hint").hidden = !preview.codeOnly;
  email.setAttribute(
    "aria-describedby",
    `${preview.codeOnly ? "email-hint" : "email-fixed"} email-error`,
  );
  $("firstName").value = preview.firstName;
  $("lastName").value = preview.lastName;
  const locale = $("locale");
  if (Array.from(locale.options).some((option) => option.value === preview.locale)) {
    locale.value = preview.locale;
  }
  const waiting = $("waiting-notice");
  waiting.hidden = !preview.waitingAddress;
  waiting.textContent = preview.waitingAddress
    ? t("invite.waiting_notice", { email: preview.waitingAddress })
    : "";
  const typed = takeTyped();
  restoreTyped(typed, preview);
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
  for (const field of preview.requiredFields) {
    const { wrapper, entry } = registrationField(field, {
      required: true,
      choose: t("invite.choose"),
    });
    profile.add(`registrationFieldValues.${field.key}`, entry);
    fieldset.append(wrapper);
  }
  fieldset.hidden = preview.requiredFields.length === 0;
  restoreTypedFields(typed);
  const other = $("signed-in-other");
  if (other) {
    other.hidden = !preview.codeOnly && other.dataset.email === preview.email;
  }
  moveTo("step-profile", $("profile-title"), { replace });
};

const accept = async () => {
  const input = {
    token: currentToken,
    firstName: $("firstName").value,
    lastName: $("lastName").value,
    password: $("password").value,
    locale: $("locale").value,
    registrationFieldValues: Array.from(profile.fields.values())
      .filter((field) => field.key)
      .map((field) => ({ key: field.key, value: fieldValue(field) })),
  };
  if (invitation.codeOnly) {
    input.email = $("email").value.trim();
  }
  const answer = await profile.submit(t("invite.submitting"), async () => {
    const result = (await graphql(ACCEPT, { input })).acceptInvitation;
    if (result.session) {
      try {
        await keepSession(result.session.token);
      } catch {
        // The account is made: the landing page says how to sign in, if the cookie failed.
      }
    }
    return result;
  });
  if (!answer) {
    return;
  }
  if (answer.errors.some((error) => error.code === "INVALID_TOKEN")) {
    showUnusable();
    return;
  }
  if (answer.errors.some((error) => error.code === "ALREADY_REGISTERED")) {
    // The address got an account since the page asked: its owner signs in to accept.
    $("password").value = "";
    startSignIn();
    return;
  }
  if (answer.errors.length || !(answer.session || answer.registration)) {
    profile.showErrors(answer.errors);
    return;
  }
  $("password").value = "";
  forgetFragment(); // the token is used up: nothing to come back to
  lastToken = currentToken;
  currentToken = null;
  if (answer.session) {
    finish(input.locale, "new");
    return;
  }
  // A letter's code proves nothing about the address: it is confirmed first, with the code
  // mailed there; the account, the session and the letter's grants come then.
  startConfirmStep(answer.registration, {
    show: (step) => moveTo(step),
    onConfirmed: (user) => finish(user.locale, "confirmed"),
  });
};

// -- An address with an account already: its owner signs in, and the invitation is accepted
// into that account (the session the sign-in gives asks for it).

const startSignIn = ({ replace = false } = {}) => {
  signIn.clear();
  $("account-email").value = invitation.email;
  $("account-password").value = "";
  moveTo("step-sign-in", $("sign-in-title"), { replace });
};

const acceptSignedIn = async () => {
  const password = $("account-password").value;
  if (!password) {
    signIn.fieldProblem("password", t("invite.fill_in"));
    return;
  }
  const answer = await signIn.submit(t("invite.submitting"), async () => {
    const variables = { email: invitation.email, password };
    const signedIn = (await graphql(SIGN_IN, variables)).signIn;
    if (!signedIn.session) {
      return { errors: signedIn.errors.map((error) => ({ ...error, field: "password" })) };
    }
    const input = { token: currentToken, firstName: "", lastName: "", password: "" };
    const bearer = signedIn.session.token;
    const accepted = (await graphql(ACCEPT, { input }, { bearer })).acceptInvitation;
    try {
      // Signed in either way: the password was right.
      await keepSession((accepted.session || signedIn.session).token);
    } catch {
      // The invitation is accepted: the landing page says how to sign in, if the cookie failed.
    }
    return { ...accepted, locale: signedIn.session.user.locale };
  });
  if (!answer) {
    return;
  }
  if (answer.errors.some((error) => error.code === "INVALID_TOKEN")) {
    showUnusable();
    return;
  }
  if (answer.errors.length || !answer.session) {
    signIn.showErrors(answer.errors);
    return;
  }
  $("account-password").value = "";
  forgetFragment();
  currentToken = null;
  finish(answer.locale, "existing");
};

/** The last step: `how` the account came ("new", "confirmed" here, or "existing"). */
const finish = (locale, how) => {
  const next = $("done-next");
  if ("landing" in next.dataset) {
    next.href = landingUrl(locale);
  }
  $("done-text").hidden = how !== "new";
  $("done-confirmed").hidden = how !== "confirmed";
  $("done-existing").hidden = how !== "existing";
  finished = true;
  show("step-done", $("done-title"));
};

/** Back or Forward to a step: as it was left, passwords emptied. A step that cannot come back
 * (the invitation used up, the registration confirmed) leaves the page where it is. */
const stepFromHistory = (step) => {
  $("password").value = "";
  $("account-password").value = "";
  if (finished) {
    show("step-done", $("done-title"));
  } else if (step === "step-profile" && invitation && (currentToken || lastToken)) {
    currentToken = currentToken || lastToken;
    show("step-profile", $("profile-title"));
  } else if (step === "step-sign-in" && invitation && currentToken) {
    show("step-sign-in", $("sign-in-title"));
  } else if (step === "step-confirm" && registration.load()) {
    show("step-confirm", $("confirm-title"));
  } else {
    show("step-code", codeInput);
  }
};

// ---------------------------------------------------------------------------------------------
// Wiring

codeForm.addEventListener("submit", (event) => {
  event.preventDefault();
  checkCode(codeInput.value);
});

// Dashes appear as the code is typed or pasted, and the caret stays where it was.
let codeBefore = "";
codeInput.addEventListener("input", (event) => {
  if (event.isComposing) {
    return;
  }
  let raw = codeInput.value;
  let caret = codeInput.selectionStart ?? raw.length;
  const linked = codeInLink(raw);
  if (linked !== null) {
    // A pasted link: its code is what counts.
    raw = linked;
    caret = raw.length;
  }
  const symbolCount = (text) => text.replace(IGNORED, "").length;
  if (
    event.inputType === "deleteContentBackward" &&
    symbolCount(raw) === symbolCount(codeBefore) &&
    caret > 0
  ) {
    // Backspace took only a dash we had put there: take the symbol before it too.
    raw = raw.slice(0, caret - 1) + raw.slice(caret);
    caret -= 1;
  }
  const formatted = formatAsTyped(raw, caret);
  if (formatted.value !== codeInput.value) {
    codeInput.value = formatted.value;
    codeInput.setSelectionRange(formatted.caret, formatted.caret);
  }
  codeBefore = codeInput.value;
});

profile.form.addEventListener("submit", (event) => {
  event.preventDefault();
  accept();
});

signIn.form.addEventListener("submit", (event) => {
  event.preventDefault();
  acceptSignedIn();
});

wirePasswordSwitches();

$("try-other").addEventListener("click", () => {
  forgetFragment();
  currentToken = null;
  codeInput.value = "";
  clearCodeProblem();
  moveTo("step-code", codeInput);
});

// The switch reloads the page in another language: carry the fragment (the token) along, and
// what was typed so far (for this tab only, never the password), which startProfile puts back.
const TYPED_KEY = "invite-typed";
// A code typed here, the page reloaded in the invitation's language (speakInvitationLanguage).
const TYPED_CODE_KEY = "invite-typed-code";

const keepTyped = () => {
  if (!currentToken || $("step-profile").hidden) {
    return;
  }
  const typed = {
    token: currentToken,
    email: $("email").value,
    firstName: $("firstName").value,
    lastName: $("lastName").value,
    fields: {},
  };
  for (const field of profile.fields.values()) {
    if (field.key) {
      typed.fields[field.key] =
        field.type === "CHECKBOX" ? field.input.checked : field.input.value;
    }
  }
  try {
    window.sessionStorage.setItem(TYPED_KEY, JSON.stringify(typed));
  } catch {
    // Storage refused (a private window's quota): the answers are typed again.
  }
};

/** What keepTyped kept for the invitation on the page (read once), or null. */
const takeTyped = () => {
  let typed = null;
  try {
    typed = JSON.parse(window.sessionStorage.getItem(TYPED_KEY) || "null");
    window.sessionStorage.removeItem(TYPED_KEY);
  } catch {
    return null;
  }
  return typed && typed.token === currentToken ? typed : null;
};

const restoreTyped = (typed, preview) => {
  if (!typed) {
    return;
  }
  if (preview.codeOnly && typeof typed.email === "string") {
    $("email").value = typed.email; // an invited address is fixed: never replaced
  }
  $("firstName").value = typed.firstName || $("firstName").value;
  $("lastName").value = typed.lastName || $("lastName").value;
};

const restoreTypedFields = (typed) => {
  if (!typed || !typed.fields) {
    return;
  }
  for (const field of profile.fields.values()) {
    if (!field.key || !(field.key in typed.fields)) {
      continue;
    }
    const value = typed.fields[field.key];
    if (field.type === "CHECKBOX") {
      field.input.checked = value === true;
    } else if (typeof value === "string") {
      field.input.value = value;
    }
  }
};

for (const link of document.querySelectorAll("a[data-locale-link]")) {
  link.addEventListener("click", (event) => {
    if (window.location.hash) {
      event.preventDefault();
      keepTyped();
      window.location.assign(link.getAttribute("href") + window.location.hash);
    }
  });
}

const fromFragment = () => {
  const token = tokenInFragment();
  if (token) {
    let typed = null;
    try {
      typed = window.sessionStorage.getItem(TYPED_CODE_KEY);
      window.sessionStorage.removeItem(TYPED_CODE_KEY);
    } catch {
      // Storage refused: as from a link.
    }
    codeInput.value = token;
    checkCode(token, { fromLink: typed !== token });
  }
  return Boolean(token);
};

/** The confirmation step of the registration this browser made and has not confirmed yet
 * (the page reloaded, the tab closed while reading the mail). */
const resumeRegistration = () => {
  const stored = registration.load();
  if (!stored) {
    return;
  }
  startConfirmStep(stored, {
    show: (step) => moveTo(step, null, { replace: true }),
    onConfirmed: (user) => finish(user.locale, "confirmed"),
  });
};

// Leave the confirmation step for another code: this browser forgets the registration (it
// waits for its address all the same; its code, typed again, can start over).
$("confirm-other-code").addEventListener("click", () => {
  registration.forget();
  $("confirm-intro").textContent = ""; // the address goes from the page too (a shared phone)
  forgetFragment();
  currentToken = null;
  codeInput.value = "";
  clearCodeProblem();
  moveTo("step-code", codeInput);
});

window.addEventListener("hashchange", fromFragment);
window.addEventListener("popstate", (event) => {
  if (event.state && "invite" in event.state) {
    stepFromHistory(event.state.invite);
  }
});
window.history.replaceState({ invite: "step-code" }, "");
if (!fromFragment()) {
  resumeRegistration();
}
