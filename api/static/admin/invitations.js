/* All invitations: the `invitations` query as a table, a keyset page at a time (no offsets:
 * "previous" goes back to a cursor this page already saw), with search, filters, sorting,
 * per-row resend, delete and details, and bulk resend and delete on the ticked rows or on all
 * that match. The downloads (export, letters) carry the same filters in their address; the
 * letters are asked for first, so that a refusal (nothing to print) is said in the page.
 */

import {
  $,
  el,
  formatDate,
  formatNumber,
  graphql,
  LOCALE,
  plural,
  problemWords,
  ROOT,
  say,
  t,
} from "./client.js";
import { guardDownload } from "./downloads.js";
import {
  busy,
  button,
  confirmAction,
  keepFocus,
  showFailure,
  showProblems,
} from "./manage.js";
import { showSendingPause } from "./sending.js";

const make = (tag, { text = "", className = "", attrs = {} } = {}) => {
  const element = el(tag, text ?? "", attrs);
  if (className) {
    element.className = className;
  }
  return element;
};

const PAGE_SIZE = 25;
const MAX_IDS = 1000; // what a selection by ids may hold (InvitationSelectionInput)

const LIST = `
query Invitations($filter: InvitationFilterInput, $orderBy: InvitationOrderInput, $first: Int!,
                  $after: String, $locale: String, $withTotal: Boolean!) {
  invitations(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount @include(if: $withTotal)
    pageInfo { hasNextPage endCursor }
    edges { node {
      id email firstName lastName status waitingForConfirmation codeOnly createdAt
      delivery { state lastError bounceKind suppression { reason } }
      grants { admin projects { title } groups { title(locale: $locale) } }
    } }
  }
}`;
// The rows' delivery only: asked again while resent rows wait in the queue (watchQueued).
const DELIVERIES = `
query InvitationDeliveries($filter: InvitationFilterInput, $orderBy: InvitationOrderInput,
                           $first: Int!, $after: String) {
  invitations(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    edges { node { id delivery { state lastError bounceKind suppression { reason } } } }
  }
}`;
const CHOICES = `
query Choices($locale: String) {
  groups { id title(locale: $locale) }
  invitationImports(first: 50, filter: { status: DONE }) {
    edges { node { id fileName createdAt invitedCount dryRun } }
  }
}`;
const DETAILS = `
query Invitation($id: ID!, $locale: String) {
  invitation(id: $id) {
    id email firstName lastName locale status waitingForConfirmation codeOnly personalMessage token
    createdAt sentAt remindedAt expiresAt acceptedAt
    delivery { state attempts sendCount lastError bounceKind feedbackAt }
    grants {
      admin projects { title } groups { title(locale: $locale) }
      registrationFieldValues { key value }
    }
    inviter { email firstName lastName }
    acceptedUser { email }
    invitationImport { fileName }
  }
}`;
const RESEND = `
mutation Resend($id: ID!) {
  resendInvitation(id: $id) { invitation { id } errors { code message field value reason } }
}`;
// Refusals of a resend the page words itself, in the admin's language, with the address.
const RESEND_REFUSALS = {
  ALREADY_INVITED: "admin.invitations.resend_already_invited",
  ALREADY_REGISTERED: "admin.invitations.resend_already_registered",
};
const DELETE = `
mutation Delete($id: ID!) {
  deleteInvitation(id: $id) { deletedId errors { code message field value reason } }
}`;
const BULK_RESEND = `
mutation BulkResend($input: InvitationSelectionInput!) {
  resendInvitations(input: $input) {
    matchedCount resentCount mailedCount skipped { reason count } errors { code message field value reason }
  }
}`;
const BULK_DELETE = `
mutation BulkDelete($input: InvitationSelectionInput!) {
  deleteInvitations(input: $input) {
    matchedCount deletedCount skipped { reason count } errors { code message field value reason }
  }
}`;

const form = $("filters");
// On a phone the list comes first: the filters beyond the search fold away until asked for.
if (window.matchMedia("(max-width: 40rem)").matches) {
  $("more-filters").open = false;
}
const tbody = $("invitations").querySelector("tbody");
const problem = $("problem");
const bulkResult = $("bulk-result");

const state = {
  filter: {},
  orderBy: { field: "CREATED_AT", direction: "DESC" },
  cursors: [null], // cursors[i] is the `after` of page i
  page: 0,
  total: 0,
  // The total is a real count (a million rows: a tenth of a second or more): asked for when
  // the filters or the invitations changed, not for every page or ordering.
  countStale: true,
  rows: [],
  picked: new Set(),
  allMatching: false, // the bulk actions act on every invitation the filter selects
};

// ---------------------------------------------------------------------------------------------
// Filters

const readFilter = () => {
  const data = new FormData(form);
  const filter = {};
  for (const [name, value] of data.entries()) {
    if (!FILTER_NAMES.includes(name)) {
      continue; // the language the form carries when sent without this script
    }
    const text = String(value).trim();
    if (text) {
      filter[name] = text;
    }
  }
  return filter;
};

const downloadLink = (link, base, extra = {}) => {
  const url = new URL(base, window.location.href);
  for (const [name, value] of Object.entries({ ...state.filter, ...extra })) {
    url.searchParams.set(name, value);
  }
  link.href = `${url.pathname}${url.search}`;
};

let searchTimer = 0;

/** Show the first page of what the filters select; the same filters again change nothing
 * (the selection stays), unless `force`. */
const applyFilter = ({ force = false } = {}) => {
  window.clearTimeout(searchTimer);
  const filter = readFilter();
  if (!force && JSON.stringify(filter) === JSON.stringify(state.filter)) {
    return Promise.resolve();
  }
  state.filter = filter;
  state.countStale = true;
  state.cursors = [null];
  state.page = 0;
  state.picked.clear();
  state.allMatching = false;
  say(bulkResult, "");
  // The export's words (status, delivery, group titles, the sheet about its columns) and the
  // files' names in the console's language.
  downloadLink($("export"), `${ROOT}/invitations/export.xlsx`, { lang: LOCALE });
  downloadLink($("letters"), `${ROOT}/invitations/letters.pdf`, { lang: LOCALE });
  keepInAddress(filter);
  return load();
};

const FILTER_NAMES = ["search", "status", "delivery", "groupId", "role", "importId"];

/** A whole invitation code typed in the search (15 letters and digits, dashes and spaces
 * aside): it stays out of the page's address, and so out of the history and bookmarks. */
const isCode = (text) => /^[0-9a-z]{15}$/i.test(text.replace(/[\s\u2010-\u2014_.-]/g, ""));

/** The filters in the page's address (the language too), so it can be bookmarked or linked. */
const keepInAddress = (filter) => {
  const params = new URLSearchParams(window.location.search);
  for (const name of FILTER_NAMES) {
    params.delete(name);
    if (filter[name] && !(name === "search" && isCode(filter[name]))) {
      params.set(name, filter[name]);
    }
  }
  const query = params.toString();
  window.history.replaceState(null, "", `${window.location.pathname}${query ? `?${query}` : ""}`);
};

/** The filters an address names (`/admin/invitations?delivery=FAILED`), put in the form. */
const filtersFromAddress = () => {
  const params = new URLSearchParams(window.location.search);
  for (const name of FILTER_NAMES) {
    const value = params.get(name);
    const control = form.elements[name];
    if (!value || !control) {
      continue;
    }
    if (control.tagName === "SELECT" && !Array.from(control.options).some((o) => o.value === value)) {
      // A group or import whose name comes with the choices: its id meanwhile.
      control.append(make("option", { text: value, attrs: { value } }));
    }
    control.value = value;
  }
};

form.addEventListener("submit", (event) => {
  event.preventDefault();
  applyFilter({ force: true });
});
form.addEventListener("reset", () => {
  // After the browser has put the fields back (the order too: newest first).
  window.setTimeout(() => {
    showOrder("CREATED_AT", "DESC");
    applyFilter({ force: true });
  }, 0);
});
for (const select of form.querySelectorAll("select[name]")) {
  select.addEventListener("change", () => applyFilter());
}
$("search").addEventListener("input", () => {
  window.clearTimeout(searchTimer);
  searchTimer = window.setTimeout(() => applyFilter(), 300);
});

const loadChoices = async () => {
  const data = await graphql(CHOICES, { locale: LOCALE });
  const choose = (select, value, text) => {
    const named = Array.from(select.options).find((option) => option.value === value);
    if (named) {
      named.textContent = text;
    } else {
      select.append(make("option", { text, attrs: { value } }));
    }
  };
  for (const group of data.groups) {
    choose($("group"), group.id, group.title);
  }
  // Only the imports that wrote invitations: a failed file, or a preview, has none to show.
  for (const { node } of data.invitationImports.edges) {
    if (node.dryRun || !node.invitedCount) {
      continue;
    }
    choose($("import"), node.id, `${node.fileName} (${formatDate(node.createdAt)})`);
  }
};

// ---------------------------------------------------------------------------------------------
// Sorting

const sortSelect = $("sort");

/** The order the list is in: the column headers and the select say the same. */
function showOrder(field, direction) {
  state.orderBy = { field, direction };
  for (const header of document.querySelectorAll("th[data-sort]")) {
    header.setAttribute(
      "aria-sort",
      header.dataset.sort === field ? (direction === "ASC" ? "ascending" : "descending") : "none",
    );
  }
  const value = `${field}:${direction}`;
  if (Array.from(sortSelect.options).some((option) => option.value === value)) {
    sortSelect.value = value;
  }
}

/** Sort by a field, from the first page. */
const sortBy = (field, direction) => {
  showOrder(field, direction);
  state.cursors = [null];
  state.page = 0;
  return load();
};

for (const header of document.querySelectorAll("th[data-sort]")) {
  header.querySelector("button").addEventListener("click", () => {
    const field = header.dataset.sort;
    const direction =
      state.orderBy.field === field
        ? state.orderBy.direction === "ASC"
          ? "DESC"
          : "ASC"
        : field === "CREATED_AT"
          ? "DESC"
          : "ASC";
    sortBy(field, direction);
  });
}
sortSelect.addEventListener("change", (event) => {
  event.stopPropagation();
  const [field, direction] = sortSelect.value.split(":");
  sortBy(field, direction);
});

// ---------------------------------------------------------------------------------------------
// The list

/** Its status as the console names it: a letter whose code was typed with an address not
 * confirmed yet is pending, waiting for that confirmation (not accepted). */
const statusKey = (invitation) =>
  invitation.waitingForConfirmation && invitation.status === "PENDING"
    ? "waiting"
    : invitation.status.toLowerCase();
const statusText = (invitation) => t(`admin.invitations.status_${statusKey(invitation)}`);
const deliveryText = (state_) => t(`admin.invitations.delivery_${state_.toLowerCase()}`);

/** A code-only invitation without a name, told apart from the others by its number. */
const codeOnlyName = (invitation) =>
  t("admin.invitations.code_only_numbered", { number: invitation.id });

const who = (invitation) =>
  invitation.email ||
  [invitation.firstName, invitation.lastName].filter(Boolean).join(" ") ||
  codeOnlyName(invitation);

/** What the invitation would give: the words of the delete confirmation. */
const grantsText = (grants) => {
  const parts = [];
  if (grants.admin) {
    parts.push(t("admin.invitations.role_admin"));
  }
  for (const project of grants.projects) {
    parts.push(t("admin.invitations.manages", { project: project.title }));
  }
  for (const group of grants.groups) {
    parts.push(group.title);
  }
  return parts.join(", ");
};

const cell = (label, content) => {
  const td = make("td", { attrs: { "data-label": label } });
  if (content instanceof Node) {
    td.append(content);
  } else {
    td.textContent = content;
  }
  return td;
};

const deliveryCell = (invitation) => {
  const wrap = make("div");
  const { delivery } = invitation;
  wrap.append(
    make("span", {
      text: deliveryText(delivery.state),
      className: `badge delivery-${delivery.state.toLowerCase()}`,
    }),
  );
  if (delivery.suppression) {
    wrap.append(make("span", { text: t("admin.invitations.suppressed"), className: "badge" }));
  }
  const why = deliveryReason(delivery);
  if (why) {
    wrap.append(make("p", { text: why.line, className: "reason" }));
  }
  return wrap;
};

// How the domain words a reminder it gave up (domain/invitations/delivery.py): the page says
// it in the admin's language, with the relay's answer that follows.
const REMINDER_FAILED = "Reminder not delivered: ";

/** Why the last try did not go through, as the list says it and as the details label it: a
 * failure, a try to be made again (queued), or a reminder not delivered (the row stays sent). */
const deliveryReason = ({ state: deliveryState, lastError }) => {
  if (!lastError) {
    return null;
  }
  if (["FAILED", "BOUNCED", "COMPLAINED"].includes(deliveryState)) {
    return { label: "reason", text: lastError, line: lastError };
  }
  if (["QUEUED", "SENDING"].includes(deliveryState)) {
    const line = t("admin.invitations.retrying", { reason: lastError });
    return { label: "last_attempt", text: lastError, line };
  }
  if (deliveryState === "SENT") {
    const text = lastError.startsWith(REMINDER_FAILED)
      ? lastError.slice(REMINDER_FAILED.length)
      : lastError;
    const line = t("admin.invitations.reminder_not_delivered", { reason: text });
    return { label: "reminder_failed", text, line };
  }
  return { label: "reason", text: lastError, line: lastError };
};

const renderRow = (invitation) => {
  const row = make("tr", { attrs: { "data-id": invitation.id } });
  const pick = make("input", {
    attrs: {
      type: "checkbox",
      "aria-label": t("admin.invitations.pick", { who: who(invitation) }),
    },
  });
  pick.checked = state.allMatching || state.picked.has(invitation.id);
  pick.disabled = state.allMatching;
  pick.addEventListener("change", () => {
    if (pick.checked) {
      state.picked.add(invitation.id);
    } else {
      state.picked.delete(invitation.id);
    }
    showSelection();
  });
  const pickCell = make("td", { className: "pick" });
  pickCell.append(pick);
  row.append(pickCell);

  const email = make("span", {
    text: invitation.email || codeOnlyName(invitation),
    className: invitation.email ? "email" : "muted",
  });
  row.append(cell(t("admin.invitations.col_email"), email));
  row.append(
    cell(
      t("admin.invitations.col_name"),
      [invitation.firstName, invitation.lastName].filter(Boolean).join(" "),
    ),
  );
  row.append(
    cell(
      t("admin.invitations.col_status"),
      make("span", {
        text: statusText(invitation),
        className: `badge status-${statusKey(invitation)}`,
      }),
    ),
  );
  const deliveryTd = cell(t("admin.invitations.col_delivery"), deliveryCell(invitation));
  deliveryTd.classList.add("delivery");
  row.append(deliveryTd);
  row.append(cell(t("admin.invitations.col_created"), formatDate(invitation.createdAt)));

  const actions = make("div", { className: "row-actions" });
  const name = who(invitation);
  actions.append(
    button(t("admin.invitations.details_button"), () => showDetails(invitation.id), {
      label: t("admin.invitations.details_of", { who: name }),
    }),
  );
  if (invitation.status !== "ACCEPTED") {
    // A code-only invitation has no address: "resending" it only gives its code 30 more days.
    const [word, label] = invitation.codeOnly
      ? ["admin.invitations.extend", "admin.invitations.extend_of"]
      : ["admin.invitations.resend", "admin.invitations.resend_to"];
    const resend = button(t(word), () => resendOne(resend, invitation), {
      label: t(label, { who: name }),
    });
    actions.append(resend);
    actions.append(
      button(t("admin.invitations.delete"), () => deleteOne(invitation), {
        className: "danger",
        label: t("admin.invitations.delete_of", { who: name }),
      }),
    );
  }
  row.append(cell(t("admin.invitations.col_actions"), actions));
  return row;
};

let asked = 0; // the latest request: an earlier answer arriving late is dropped

// After a resend the mails wait in the queue for a worker: the rows' delivery is asked again
// (2, 4, 8, 16 and 32 s later) while one on the page still waits, and written into its cell
// in place (the focus stays where it is); the sending-paused notice is asked again with it.
const WAITING = ["QUEUED", "SENDING"];
// The page on screen, as the list and the deliveries' refresh ask for it.
const pageAsked = () => ({
  filter: state.filter,
  orderBy: state.orderBy,
  first: PAGE_SIZE,
  after: state.cursors[state.page],
});
let watching = 0;
const watchQueued = (delay = 2000) => {
  clearTimeout(watching);
  watching = setTimeout(async () => {
    if (!state.rows.some((invitation) => WAITING.includes(invitation.delivery.state))) {
      return;
    }
    const mine = asked;
    let data;
    try {
      data = await graphql(DELIVERIES, pageAsked());
    } catch {
      return; // the next load or action says what is wrong
    }
    if (mine !== asked) {
      return; // another page or filter meanwhile: its own load shows the rows
    }
    for (const { node } of data.invitations.edges) {
      const shown = state.rows.find((invitation) => invitation.id === node.id);
      const deliveryTd = tbody.querySelector(`tr[data-id="${CSS.escape(node.id)}"] td.delivery`);
      if (shown && deliveryTd) {
        shown.delivery = node.delivery;
        deliveryTd.replaceChildren(deliveryCell(shown));
      }
    }
    showSendingPause($("sending-pause"));
    if (delay < 32000) {
      watchQueued(delay * 2);
    }
  }, delay);
};

const load = async () => {
  say(problem, "");
  tbody.setAttribute("aria-busy", "true");
  asked += 1;
  const mine = asked;
  let data;
  try {
    data = await graphql(LIST, {
      ...pageAsked(),
      locale: LOCALE,
      withTotal: state.countStale,
    });
  } catch (error) {
    showFailure(problem, error);
    return;
  } finally {
    if (mine === asked) {
      tbody.removeAttribute("aria-busy");
    }
  }
  if (mine !== asked) {
    return;
  }
  const { invitations } = data;
  if (invitations.totalCount !== undefined) {
    state.total = invitations.totalCount;
    state.countStale = false;
  }
  state.rows = invitations.edges.map((edge) => edge.node);
  state.cursors[state.page + 1] = invitations.pageInfo.hasNextPage
    ? invitations.pageInfo.endCursor
    : undefined;
  tbody.replaceChildren(...state.rows.map(renderRow));
  // No invitation at all yet (no filter, the first page): where to start, not an empty list.
  const nothingYet = !state.rows.length && !state.page && !Object.keys(state.filter).length;
  $("main").classList.toggle("before-any", nothingYet);
  $("empty").hidden = state.rows.length > 0 || nothingYet;
  $("nothing-yet").hidden = !nothingYet;
  $("total").textContent = plural("admin.invitations.total", state.total);
  $("previous").disabled = state.page === 0;
  $("next").disabled = !invitations.pageInfo.hasNextPage;
  $("page-number").textContent = t("admin.invitations.page", { page: state.page + 1 });
  showSelection();
};

$("next").addEventListener("click", () => {
  if (state.cursors[state.page + 1]) {
    state.page += 1;
    load();
  }
});
$("previous").addEventListener("click", () => {
  if (state.page > 0) {
    state.page -= 1;
    load();
  }
});

// ---------------------------------------------------------------------------------------------
// Selection

const pickPage = $("pick-page");
pickPage.addEventListener("change", () => {
  for (const invitation of state.rows) {
    if (pickPage.checked) {
      state.picked.add(invitation.id);
    } else {
      state.picked.delete(invitation.id);
    }
  }
  if (!pickPage.checked) {
    state.allMatching = false;
  }
  for (const box of tbody.querySelectorAll("td.pick input")) {
    box.checked = pickPage.checked;
    box.disabled = false;
  }
  showSelection();
});

$("select-matching").addEventListener("click", () => {
  state.allMatching = !state.allMatching;
  if (!state.allMatching) {
    state.picked.clear();
  }
  for (const box of tbody.querySelectorAll("td.pick input")) {
    box.checked = state.allMatching;
    box.disabled = state.allMatching;
  }
  pickPage.checked = state.allMatching;
  showSelection();
});

const selectedCount = () => (state.allMatching ? state.total : state.picked.size);

const showSelection = () => {
  const count = selectedCount();
  $("selection").textContent = count
    ? state.allMatching
      ? plural("admin.invitations.all_matching_selected", count)
      : plural("admin.invitations.selected", count)
    : "";
  const offerAll =
    state.allMatching || (state.rows.length > 0 && state.rows.every((r) => state.picked.has(r.id)));
  const selectMatching = $("select-matching");
  selectMatching.hidden = !offerAll || state.total <= state.rows.length;
  selectMatching.textContent = state.allMatching
    ? t("admin.invitations.select_page_only")
    : plural("admin.invitations.select_all_matching", state.total);
  pickPage.checked =
    state.rows.length > 0 && state.rows.every((r) => state.allMatching || state.picked.has(r.id));
  $("bulk-resend").disabled = count === 0;
  $("bulk-delete").disabled = count === 0;
};

const selection = () => {
  if (state.allMatching) {
    return { filter: state.filter };
  }
  if (state.picked.size > MAX_IDS) {
    say(problem, t("admin.invitations.too_many_picked"), "error");
    return null;
  }
  return { ids: Array.from(state.picked) };
};

// ---------------------------------------------------------------------------------------------
// Actions

const skippedText = (skipped) =>
  skipped
    .filter((item) => item.count > 0)
    .map((item) =>
      plural(`admin.invitations.skipped_${item.reason.toLowerCase()}`, item.count),
    )
    .join(" ");

const resendOne = async (control, invitation) => {
  await busy(control, async () => {
    say(bulkResult, "");
    try {
      const { resendInvitation } = await graphql(RESEND, { id: invitation.id });
      const { errors } = resendInvitation;
      if (errors.length) {
        const words = (error) =>
          RESEND_REFUSALS[error.code]
            ? t(RESEND_REFUSALS[error.code], { who: who(invitation) })
            : problemWords(error);
        say(problem, errors.map(words).join(" "), "error");
        return;
      }
      // A code-only invitation has no address: only its code's 30 days start again.
      const done = invitation.email
        ? "admin.invitations.resent"
        : "admin.invitations.resent_code_only";
      say(bulkResult, t(done, { who: who(invitation) }));
      state.countStale = true;
      await load();
      watchQueued();
    } catch (error) {
      showFailure(problem, error);
    }
  });
  keepFocus(problem, bulkResult);
};

const deleteOne = async (invitation) => {
  const grants = grantsText(invitation.grants);
  const confirmed = await confirmAction($("confirm"), {
    title: t("admin.invitations.delete_title"),
    text: grants
      ? t("admin.invitations.delete_text_grants", { who: who(invitation), grants })
      : t("admin.invitations.delete_text", { who: who(invitation) }),
    confirm: t("admin.invitations.delete"),
  });
  if (!confirmed) {
    return;
  }
  say(bulkResult, "");
  try {
    const { deleteInvitation } = await graphql(DELETE, { id: invitation.id });
    if (!showProblems(problem, deleteInvitation.errors)) {
      state.picked.delete(invitation.id);
      say(bulkResult, t("admin.invitations.deleted", { who: who(invitation) }));
      state.countStale = true;
      await load();
    }
  } catch (error) {
    showFailure(problem, error);
  }
  keepFocus(problem, bulkResult);
};

$("bulk-resend").addEventListener("click", async (event) => {
  await busy(event.currentTarget, async () => {
    say(bulkResult, "");
    say(problem, "");
    const input = selection();
    if (!input) {
      return;
    }
    try {
      const { resendInvitations: done } = await graphql(BULK_RESEND, { input });
      if (showProblems(problem, done.errors)) {
        return;
      }
      // Code-only invitations among them got a new expiry, not a mail: said apart.
      const extended = done.resentCount - done.mailedCount;
      say(
        bulkResult,
        [
          done.mailedCount || !extended
            ? plural("admin.invitations.bulk_resent", done.mailedCount)
            : "",
          extended ? plural("admin.invitations.bulk_extended", extended) : "",
          skippedText(done.skipped),
        ]
          .filter(Boolean)
          .join(" "),
      );
      state.picked.clear();
      state.allMatching = false;
      state.countStale = true;
      await load();
      watchQueued();
    } catch (error) {
      showFailure(problem, error);
    }
  });
  keepFocus(problem, bulkResult);
});

$("bulk-delete").addEventListener("click", async () => {
  say(problem, "");
  const input = selection();
  if (!input) {
    return;
  }
  const count = selectedCount();
  const confirmed = await confirmAction($("confirm"), {
    title: t("admin.invitations.bulk_delete_title"),
    text: plural("admin.invitations.bulk_delete_text", count),
    confirm: t("admin.invitations.bulk_delete"),
  });
  if (!confirmed) {
    return;
  }
  say(bulkResult, "");
  try {
    const { deleteInvitations: done } = await graphql(BULK_DELETE, { input });
    if (showProblems(problem, done.errors)) {
      keepFocus(problem);
      return;
    }
    say(
      bulkResult,
      [plural("admin.invitations.bulk_deleted", done.deletedCount), skippedText(done.skipped)]
        .filter(Boolean)
        .join(" "),
    );
    state.picked.clear();
    state.allMatching = false;
    state.countStale = true;
    state.cursors = [null];
    state.page = 0;
    await load();
  } catch (error) {
    showFailure(problem, error);
  }
  keepFocus(problem, bulkResult);
});

// ---------------------------------------------------------------------------------------------
// Letters: asked for before the download starts, so that filters with nothing to print (or
// too much) say why in the page, in the admin's words, instead of a failed download.

guardDownload($("letters"), problem, {
  NOT_FOUND: "admin.invitations.letters_none",
  TOO_MANY_INVITATIONS: "admin.invitations.letters_too_many",
  LETTERS_UNAVAILABLE: "admin.invitations.letters_unavailable",
});

// ---------------------------------------------------------------------------------------------
// Details

const detailsDialog = $("details");
detailsDialog.querySelector("[data-close]").addEventListener("click", () => detailsDialog.close());

/** "nl-BE" by the name the language switch and the invite form give it ("Nederlands"), else
 * as the page's language calls it, or the code itself. */
const languageName = (locale) => {
  const named = [...document.querySelectorAll("nav.languages a[hreflang]")].find(
    (link) => link.hreflang.toLowerCase() === String(locale).toLowerCase(),
  );
  if (named) {
    return named.textContent.trim();
  }
  try {
    return new Intl.DisplayNames([LOCALE], { type: "language" }).of(locale) || locale;
  } catch {
    return locale;
  }
};

const showDetails = async (id) => {
  let invitation;
  try {
    ({ invitation } = await graphql(DETAILS, { id, locale: LOCALE }));
  } catch (error) {
    showFailure(problem, error);
    return;
  }
  if (!invitation) {
    say(problem, t("admin.invitations.gone"), "error");
    await load();
    return;
  }
  const person = (user) =>
    user ? [[user.firstName, user.lastName].filter(Boolean).join(" "), user.email].filter(Boolean).join(" · ") : "";
  const { grants, delivery, codeOnly } = invitation;
  // A code-only invitation is never mailed: no delivery or sends to show, but how long its
  // code works and how often that was extended (each "resend" of it).
  const extensions = delivery.sendCount - 1;
  const why = codeOnly ? null : deliveryReason(delivery);
  const entries = [
    ["col_email", invitation.email || t("admin.invitations.code_only")],
    ["col_name", [invitation.firstName, invitation.lastName].filter(Boolean).join(" ")],
    ["language", languageName(invitation.locale)],
    ["code", invitation.token],
    ["col_status", statusText(invitation)],
    ["col_delivery", codeOnly ? "" : deliveryText(delivery.state)],
    ["sends", codeOnly ? "" : formatNumber(delivery.sendCount)],
    [why ? why.label : "reason", why ? why.text : ""],
    ["grant_admin", grants.admin ? t("admin.lists.yes") : t("admin.lists.no")],
    ["grant_projects", grants.projects.map((p) => p.title).join(", ")],
    ["grant_groups", grants.groups.map((g) => g.title).join(", ")],
    ["grant_fields", grants.registrationFieldValues.map((v) => `${v.key}: ${v.value}`).join(", ")],
    ["message", invitation.personalMessage],
    ["inviter", person(invitation.inviter)],
    ["from_import", invitation.invitationImport ? invitation.invitationImport.fileName : ""],
    ["col_created", formatDate(invitation.createdAt)],
    ["sent", formatDate(invitation.sentAt)],
    ["reminded", formatDate(invitation.remindedAt)],
    [codeOnly ? "valid_until" : "expires", formatDate(invitation.expiresAt)],
    [
      "extended",
      codeOnly && extensions > 0 ? plural("admin.invitations.extended_times", extensions) : "",
    ],
    ["accepted", formatDate(invitation.acceptedAt)],
    ["accepted_by", invitation.acceptedUser ? invitation.acceptedUser.email : ""],
  ];
  const list = $("details-list");
  list.replaceChildren();
  for (const [key, value] of entries) {
    if (!value) {
      continue;
    }
    list.append(make("dt", { text: t(`admin.invitations.${key}`) }));
    list.append(make("dd", { text: value, className: key === "code" ? "code" : "" }));
  }
  detailsDialog.showModal();
  detailsDialog.querySelector("[data-close]").focus();
};

// ---------------------------------------------------------------------------------------------

filtersFromAddress();
showSendingPause($("sending-pause"));
loadChoices().catch((error) => showFailure(problem, error));
applyFilter({ force: true });
