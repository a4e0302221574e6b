/* Invite users: typed addresses (createInvitations) and an Excel file (importInvitations, then
 * the import polled until the worker is done). Both take the one options block at the top:
 * after a typed batch it goes back to its defaults, and an upload whose options grant a role
 * asks first, so a choice made for a few typed addresses never reaches a whole file unseen. */

import {
  $,
  Failure,
  LOCALE,
  PROBLEM_FIELDS,
  ROOT,
  el,
  formatNumber,
  graphql,
  plural,
  problemCount,
  problemWords,
  problemsFile,
  say,
  sayFailure,
  t,
  upload,
} from "./client.js";
import { guardDownload } from "./downloads.js";
import { confirmAction } from "./manage.js";
import { chosenProjects, loadChoices, readOptions, resetOptions } from "./options.js";

const CREATE = `mutation AdminInvite($input: CreateInvitationsInput!) {
  createInvitations(input: $input) {
    invitedCount
    existingUsersUpdated { email }
    errors { ${PROBLEM_FIELDS} position }
  }
}`;

const IMPORT = `mutation AdminImport($file: Upload!, $defaults: InvitationOptionsInput) {
  importInvitations(file: $file, defaults: $defaults) {
    invitationImport { id }
    errors { ${PROBLEM_FIELDS} }
  }
}`;

const POLL = `query AdminImportProgress($id: ID!) {
  invitationImport(id: $id) {
    id fileName status rowsTotal rowsProcessed invitedCount existingUsersUpdatedCount
    skippedCount hiddenCount problemsFileUrl outcome { newAdmins codeOnly }
    errors { ${PROBLEM_FIELDS} row }
  }
}`;

const POLL_MS = 500;

loadChoices("invite", LOCALE);

// ---------------------------------------------------------------------------------------------
// Method 1: typed addresses

/**
 * The entries as the server counts them (domain/invitations/addresses.py): its positions
 * point into this list. Split at the separators, but for the comma of a name written last
 * name first, as mail clients copy some: "Peeters, Lea <lea@example.org>" is one entry.
 */
const entries = (text) => {
  const parts = text.split(/([,;\n\r\t]+)/);
  const found = [];
  for (let index = 0; index < parts.length; index += 2) {
    let entry = parts[index].trim();
    if (
      index + 2 < parts.length &&
      parts[index + 1] === "," &&
      /^[^@<>]+$/.test(entry) &&
      /^[^@<>,]+<[^<>]*>$/.test(parts[index + 2].trim())
    ) {
      entry = `${entry}, ${parts[index + 2].trim()}`;
      index += 2;
    }
    if (entry) found.push(entry);
  }
  return found;
};

const typedForm = $("typed");
const typedStatus = $("typed-status");
const emailsBox = $("emails");
const problemsBox = $("typed-problems-box");
const problemsBody = $("typed-problems").querySelector("tbody");
const typedDone = $("typed-done");
const messageBox = $("invite-message");

// What was typed survives a reload of the page (the language switch reloads it) until it is
// sent, in this tab only, for the admin who typed it.
const DRAFT = "admin.invite.draft";
const admin = () => ($("admin-email") || {}).textContent || "";
const saveDraft = () => {
  const draft = { admin: admin(), emails: emailsBox.value, message: messageBox.value };
  sessionStorage.setItem(DRAFT, JSON.stringify(draft));
};
const restoreDraft = () => {
  let draft = null;
  try {
    draft = JSON.parse(sessionStorage.getItem(DRAFT) || "null");
  } catch {
    sessionStorage.removeItem(DRAFT);
  }
  if (draft && draft.admin === admin()) {
    emailsBox.value = draft.emails || "";
    messageBox.value = draft.message || "";
  }
};
restoreDraft();
emailsBox.addEventListener("input", saveDraft);
messageBox.addEventListener("input", saveDraft);

const showTypedProblems = (list, problems) => {
  problemsBody.replaceChildren();
  for (const problem of problems) {
    const entry = problem.position != null ? list[problem.position] : "";
    const row = el("tr");
    row.append(
      el("td", problem.position != null ? formatNumber(problem.position + 1) : ""),
      el("td", entry || problem.value || ""),
      el("td", problem.code),
      el("td", problemWords(problem)),
    );
    problemsBody.append(row);
  }
  problemsBox.hidden = problems.length === 0;
};

typedForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  typedDone.hidden = true;
  const list = entries(emailsBox.value);
  if (!list.length) {
    showTypedProblems([], []);
    emailsBox.setAttribute("aria-invalid", "true");
    say(typedStatus, t("admin.invite.none_typed"), "error");
    emailsBox.focus();
    return;
  }
  const button = $("typed-submit");
  button.disabled = true;
  say(typedStatus, t("admin.working"));
  try {
    const data = await graphql(CREATE, { input: { ...readOptions("invite"), emails: list } });
    const result = data.createInvitations;
    if (result.errors.length) {
      showTypedProblems(list, result.errors);
      emailsBox.setAttribute("aria-invalid", "true");
      say(typedStatus, plural("admin.invite.problems", result.errors.length), "error");
      return;
    }
    showTypedProblems(list, []);
    emailsBox.removeAttribute("aria-invalid");
    emailsBox.value = "";
    resetOptions("invite");
    sessionStorage.removeItem(DRAFT);
    say(typedStatus, "");
    typedDone.replaceChildren(
      el("p", plural("admin.invite.done", result.invitedCount)),
      ...(result.existingUsersUpdated.length
        ? [el("p", plural("admin.invite.existing", result.existingUsersUpdated.length))]
        : []),
      el("p", t("admin.invite.options_reset")),
      listLink(),
    );
    typedDone.hidden = false;
    typedDone.setAttribute("tabindex", "-1");
    typedDone.focus();
  } catch (error) {
    sayFailure(typedStatus, error);
  } finally {
    button.disabled = false;
    keepFocus(button);
  }
});

/** A busy button is disabled, and the browser takes the focus off it: when nothing else took it
 * meanwhile, it goes back there (its status says what happened), rather than to the top of the
 * page for the next Tab. */
const keepFocus = (button) => {
  if (!document.activeElement || document.activeElement === document.body) {
    button.focus();
  }
};

const listLink = () => {
  const paragraph = el("p");
  paragraph.append(
    el("a", t("admin.invite.see_list"), { href: `${ROOT}/admin/invitations${window.location.search}` }),
  );
  return paragraph;
};

// ---------------------------------------------------------------------------------------------
// Method 2: an Excel file

const uploadForm = $("upload");
const fileInput = $("file");
const drop = $("drop");
const chosen = $("file-chosen");
const uploadStatus = $("upload-status");
const progressBox = $("import-progress-box");
const progress = $("import-progress");
const progressText = $("import-progress-text");
const done = $("import-done");
const failed = $("import-failed");
const importProblems = $("import-problems").querySelector("tbody");
const importExport = $("import-export");
const importLetters = $("import-letters");
const downloadStatus = $("import-download-status");
const outcome = $("import-outcome");
guardDownload(importExport, downloadStatus);
guardDownload(importLetters, downloadStatus);
let file = null;

const choose = (picked) => {
  file = picked || null;
  chosen.hidden = !file;
  chosen.textContent = file ? t("admin.invite.file_chosen", { name: file.name }) : "";
};

fileInput.addEventListener("change", () => choose(fileInput.files[0]));
// A file picked while the page was still loading (a slow connection) counts as picked.
choose(fileInput.files[0]);
for (const name of ["dragenter", "dragover"]) {
  drop.addEventListener(name, (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
}
for (const name of ["dragleave", "drop"]) {
  drop.addEventListener(name, () => drop.classList.remove("over"));
}
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  const [dropped] = event.dataTransfer.files;
  if (dropped) {
    choose(dropped);
  }
});

// A file no worker has started after this long: the workers are busy or stopped, which the
// admin can do nothing about but should hear of (it will still run when one takes it).
const WAIT_NOTICE_MS = 30_000;

/** "3 of 4 rows checked": the words agree with the rows checked (French: "1 ligne vérifiée"). */
const progressWords = (job) =>
  plural("admin.invite.progress", job.rowsProcessed, { total: formatNumber(job.rowsTotal) });

const showProgress = (job, waitedMs) => {
  progressBox.hidden = false;
  if (job.rowsTotal > 0) {
    progress.max = job.rowsTotal;
    progress.value = job.rowsProcessed;
    progressText.textContent = progressWords(job);
  } else {
    progress.removeAttribute("value"); // indeterminate until the file is read
    progressText.textContent =
      job.status === "QUEUED" && waitedMs >= WAIT_NOTICE_MS
        ? t("admin.invite.progress_not_started")
        : t("admin.invite.progress_waiting");
  }
};

const showDone = (job) => {
  progress.max = Math.max(job.rowsTotal, 1);
  progress.value = progress.max;
  progressText.textContent = progressWords(job);
  $("import-done-text").textContent = t("admin.invite.import_done", { name: job.fileName });
  $("count-invited").textContent = formatNumber(job.invitedCount);
  $("count-existing").textContent = formatNumber(job.existingUsersUpdatedCount);
  $("count-skipped").textContent = formatNumber(job.skippedCount);
  $("count-hidden").textContent = formatNumber(job.hiddenCount);
  $("count-admins").textContent = formatNumber(job.outcome ? job.outcome.newAdmins : 0);
  // This file's invitations: their codes (the token column), and letters for those without
  // an address, when it has some.
  const importId = encodeURIComponent(job.id);
  importExport.href = `${ROOT}/invitations/export.xlsx?importId=${importId}&lang=${encodeURIComponent(LOCALE)}`;
  importLetters.href = `${ROOT}/invitations/letters.pdf?importId=${importId}&codeOnly=true&lang=${encodeURIComponent(LOCALE)}`;
  importLetters.hidden = !(job.outcome && job.outcome.codeOnly > 0);
  say(downloadStatus, "");
  done.hidden = false;
};

const showFailed = (job) => {
  $("import-failed-text").textContent = plural("admin.invite.import_failed", problemCount(job.errors), {
    name: job.fileName,
  });
  importProblems.replaceChildren();
  for (const problem of job.errors) {
    const row = el("tr");
    row.append(
      el("td", problem.row != null ? formatNumber(problem.row) : ""),
      el("td", problem.field || ""),
      el("td", problem.value || ""),
      el("td", problemWords(problem)),
    );
    importProblems.append(row);
  }
  // On this origin (problemsFileUrl names the public address, maybe another host name), so
  // the console's cookie goes along.
  const link = $("problems-file");
  link.hidden = !job.problemsFileUrl;
  link.href = problemsFile(job.id);
  failed.hidden = false;
};

/** How an upload ended, said once. An admin waiting on it (the focus where the upload left it)
 * is taken to the result's heading, which a screen reader reads out; one who went on to
 * something else keeps her place, and the status says it. */
const announce = (heading) => {
  const waiting = [null, document.body, $("upload-submit")].includes(document.activeElement);
  if (waiting) {
    heading.focus();
  } else {
    outcome.textContent = heading.textContent;
  }
};

const follow = async (id) => {
  const since = Date.now();
  for (;;) {
    const data = await graphql(POLL, { id });
    const job = data.invitationImport;
    if (!job) {
      throw new Failure("failed", "import gone");
    }
    if (job.status === "DONE") {
      showDone(job);
      announce($("import-done-text"));
      return;
    }
    if (job.status === "FAILED") {
      progressBox.hidden = true;
      showFailed(job);
      announce($("import-failed-text"));
      return;
    }
    showProgress(job, Date.now() - since);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
};

/** An upload whose options make every row an admin or a project manager happens only once the
 * admin said so in the confirmation dialog. */
const grantsConfirmed = (defaults, name) => {
  const projects = chosenProjects("invite");
  const grants = [
    ...(defaults.admin ? [t("admin.invite.confirm_admin", { name })] : []),
    ...(projects.length
      ? [t("admin.invite.confirm_projects", { name, projects: projects.join(", ") })]
      : []),
  ];
  if (!grants.length) {
    return Promise.resolve(true);
  }
  return confirmAction($("confirm"), {
    title: t("admin.invite.confirm_title"),
    text: grants.join(" "),
    confirm: t("admin.invite.confirm_upload"),
  });
};

uploadForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  done.hidden = true;
  failed.hidden = true;
  progressBox.hidden = true;
  outcome.textContent = "";
  if (!file) {
    say(uploadStatus, t("admin.invite.choose_file"), "error");
    fileInput.focus();
    return;
  }
  if (!file.name.toLowerCase().endsWith(".xlsx")) {
    say(uploadStatus, t("admin.invite.not_xlsx"), "error");
    fileInput.focus();
    return;
  }
  const defaults = readOptions("invite");
  if (!(await grantsConfirmed(defaults, file.name))) {
    return;
  }
  const button = $("upload-submit");
  button.disabled = true;
  say(uploadStatus, t("admin.invite.uploading", { name: file.name }));
  try {
    const data = await upload(IMPORT, { defaults }, "file", file);
    const result = data.importInvitations;
    if (result.errors.length) {
      say(uploadStatus, result.errors.map(problemWords).join(" "), "error");
      return;
    }
    say(uploadStatus, "");
    showProgress({ rowsTotal: 0, rowsProcessed: 0 });
    await follow(result.invitationImport.id);
  } catch (error) {
    sayFailure(uploadStatus, error);
  } finally {
    button.disabled = false;
    keepFocus(button);
  }
});

// The buttons come disabled (before this script, a click would send the form the browser's
// way, with what was typed in the address): they work from here on.
$("typed-submit").disabled = false;
$("upload-submit").disabled = false;
