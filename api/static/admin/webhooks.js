/* Webhooks: the host platform's subscriptions with their events, whether they are active and
 * how their last delivery went; a new one (the generated secret shown once); editing; deletion;
 * a test event; a subscription's recent deliveries with every attempt.
 */

import { $, el, formatDate, graphql, plural, say, t } from "./client.js";
import {
  busy,
  button,
  clearProblems,
  confirmAction,
  markInvalid,
  showFailure,
  showProblems,
} from "./manage.js";

const FIELDS = `id url eventTypes active
  deliveries(first: 1) { state occurredAt nextAttemptAt attempts { attemptedAt } }`;
const SUBSCRIPTIONS = `query Subscriptions { webhookSubscriptions { ${FIELDS} } }`;
const ERRORS = "errors { code message field position value reason }";
const CREATE = `
mutation CreateSubscription($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) { subscription { id url } secret ${ERRORS} }
}`;
const UPDATE = `
mutation UpdateSubscription($id: ID!, $input: UpdateWebhookSubscriptionInput!) {
  updateWebhookSubscription(id: $id, input: $input) { subscription { id } ${ERRORS} }
}`;
const DELETE = `
mutation DeleteSubscription($id: ID!) {
  deleteWebhookSubscription(id: $id) { deletedId ${ERRORS} }
}`;
const TEST = `
mutation SendTest($id: ID!) { sendTestWebhook(id: $id) { delivery { id } ${ERRORS} } }`;
const DELIVERIES = `
query Deliveries($id: ID!) {
  webhookSubscription(id: $id) { id deliveries(first: 20) {
    id eventType occurredAt state nextAttemptAt
    attempts { attemptedAt statusCode error durationMs }
  } }
}`;

const problem = $("problem");
const done = $("done");

/** INVITATION_CREATED -> invitation.created (the payload's type). */
const eventName = (type) => type.toLowerCase().replace("_", ".");
// The events in the form's order (the API's), whatever order a subscription stores them in.
const ORDER = Array.from(document.querySelectorAll("input[name=new-events]"), (box) => box.value);
const inOrder = (types) => ORDER.filter((type) => types.includes(type));
/** A delivery's state; one still pending after failed attempts says so, and when it is next tried. */
const stateText = (delivery) =>
  delivery.state === "PENDING" && delivery.attempts.length
    ? plural("admin.webhooks.state_retrying", delivery.attempts.length, {
        time: formatDate(delivery.nextAttemptAt),
      })
    : t(`admin.webhooks.state_${delivery.state.toLowerCase()}`);
/** Its last attempt failed: given up, or to be tried again. */
const failing = (delivery) =>
  delivery.state === "FAILED" || (delivery.state === "PENDING" && delivery.attempts.length > 0);

// ---------------------------------------------------------------------------------------------
// The list

const card = (subscription) => {
  const item = el("li", "", { class: "card", "data-id": subscription.id });
  item.append(el("h3", subscription.url, { class: "url" }));
  item.append(
    el("p", subscription.active ? t("admin.webhooks.active") : t("admin.webhooks.paused"), {
      class: "active-state",
    }),
  );
  const events = el("p", "", { class: "event-types" });
  inOrder(subscription.eventTypes).forEach((type, index) => {
    if (index) {
      events.append(", ");
    }
    events.append(el("code", eventName(type)));
  });
  item.append(events);
  const last = subscription.deliveries[0];
  if (last && failing(last)) {
    const mark = el("p", "", { class: "failing" });
    mark.append(el("span", t("admin.webhooks.failing"), { class: "badge delivery-failed" }));
    item.append(mark);
  }
  item.append(
    el(
      "p",
      last
        ? t("admin.webhooks.last_delivery", {
            state: stateText(last),
            time: formatDate(last.occurredAt),
          })
        : t("admin.webhooks.no_deliveries"),
      { class: "last-delivery" },
    ),
  );
  const url = subscription.url;
  const actions = el("div", "", { class: "row-actions" });
  actions.append(
    button(t("admin.webhooks.deliveries"), () => openDeliveries(subscription), {
      label: t("admin.webhooks.deliveries_of", { url }),
    }),
    button(t("admin.webhooks.test"), (event) => sendTest(subscription, event.currentTarget), {
      className: "secondary",
      label: t("admin.webhooks.test_of", { url }),
    }),
    button(t("admin.webhooks.edit"), () => openEdit(subscription), {
      className: "secondary",
      label: t("admin.webhooks.edit_of", { url }),
    }),
    button(t("admin.webhooks.delete"), () => deleteSubscription(subscription), {
      className: "danger",
      label: t("admin.webhooks.delete_of", { url }),
    }),
  );
  item.append(actions);
  return item;
};

const load = async () => {
  const list = $("subscriptions");
  try {
    const data = await graphql(SUBSCRIPTIONS);
    list.replaceChildren(...data.webhookSubscriptions.map(card));
    $("empty").hidden = data.webhookSubscriptions.length > 0;
  } catch (error) {
    showFailure(problem, error);
  } finally {
    list.removeAttribute("aria-busy");
  }
};

/** The input of a subscription's form a problem is about (the URL, the events, the secret). */
const problemInput = (form, prefix) => (problem) =>
  ({
    url: $(`${prefix}-url`),
    eventTypes: form.querySelector(`input[name=${prefix}-events]`),
    secret: $(`${prefix}-secret`),
  })[problem.field] || null;

const checked = (form, name) =>
  Array.from(form.querySelectorAll(`input[name="${name}"]:checked`), (box) => box.value);

// ---------------------------------------------------------------------------------------------
// A new subscription, and its secret shown once

const newForm = $("new-subscription");
const secretBox = $("secret-box");

newForm.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(newForm.querySelector("button[type=submit]"), async () => {
    say($("new-problem"), "");
    say(done, "");
    clearProblems(newForm);
    const url = $("new-url");
    const eventTypes = checked(newForm, "new-events");
    if (!url.value.trim()) {
      markInvalid(url, t("admin.webhooks.url_needed"));
      url.focus();
      return;
    }
    if (!eventTypes.length) {
      const first = newForm.querySelector("input[name=new-events]");
      markInvalid(first, t("admin.webhooks.events_needed"));
      first.focus();
      return;
    }
    const input = { url: url.value.trim(), eventTypes };
    const secret = $("new-secret").value.trim();
    if (secret) {
      input.secret = secret;
    }
    try {
      const { createWebhookSubscription: result } = await graphql(CREATE, { input });
      if (
        showProblems($("new-problem"), result.errors, {
          at: problemInput(newForm, "new"),
          within: newForm,
        })
      ) {
        return;
      }
      newForm.reset();
      say(done, t("admin.webhooks.created", { url: result.subscription.url }), "success");
      await load();
      if (!secret && result.secret) {
        $("secret-value").value = result.secret;
        secretBox.hidden = false;
        $("secret-value").focus();
        $("secret-value").select();
      }
    } catch (error) {
      showFailure($("new-problem"), error);
    }
  });
});

$("secret-done").addEventListener("click", () => {
  $("secret-value").value = "";
  secretBox.hidden = true;
  $("list-title").setAttribute("tabindex", "-1");
  $("list-title").focus();
});

// ---------------------------------------------------------------------------------------------
// Editing

const editDialog = $("edit");
const editForm = $("edit-form");
let editing = null;

const openEdit = (subscription) => {
  editing = subscription;
  say($("edit-problem"), "");
  clearProblems(editForm);
  $("edit-title").textContent = t("admin.webhooks.edit_of", { url: subscription.url });
  $("edit-url").value = subscription.url;
  for (const box of editForm.querySelectorAll("input[name=edit-events]")) {
    box.checked = subscription.eventTypes.includes(box.value);
  }
  $("edit-active").checked = subscription.active;
  editDialog.showModal();
  $("edit-url").focus();
};
editForm.querySelector("[data-cancel]").addEventListener("click", () => editDialog.close());
editForm.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(editForm.querySelector("button[type=submit]"), async () => {
    say($("edit-problem"), "");
    clearProblems(editForm);
    const url = $("edit-url").value.trim();
    const eventTypes = checked(editForm, "edit-events");
    if (!url) {
      markInvalid($("edit-url"), t("admin.webhooks.url_needed"));
      $("edit-url").focus();
      return;
    }
    if (!eventTypes.length) {
      const first = editForm.querySelector("input[name=edit-events]");
      markInvalid(first, t("admin.webhooks.events_needed"));
      first.focus();
      return;
    }
    try {
      const input = { url, eventTypes, active: $("edit-active").checked };
      const { updateWebhookSubscription: result } = await graphql(UPDATE, {
        id: editing.id,
        input,
      });
      if (
        showProblems($("edit-problem"), result.errors, {
          at: problemInput(editForm, "edit"),
          within: editForm,
        })
      ) {
        return;
      }
      editDialog.close();
      say(done, t("admin.lists.saved"), "success");
      await load();
    } catch (error) {
      showFailure($("edit-problem"), error);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Deleting, and a test event

const deleteSubscription = async (subscription) => {
  say(done, "");
  const url = subscription.url;
  const yes = await confirmAction($("confirm"), {
    title: t("admin.webhooks.delete_title"),
    text: t("admin.webhooks.delete_text", { url }),
    confirm: t("admin.webhooks.delete"),
  });
  if (!yes) {
    return;
  }
  try {
    const { deleteWebhookSubscription: result } = await graphql(DELETE, { id: subscription.id });
    if (showProblems(problem, result.errors)) {
      return;
    }
    say(done, t("admin.webhooks.deleted", { url }), "success");
    await load();
    $("list-title").setAttribute("tabindex", "-1");
    $("list-title").focus();
  } catch (error) {
    showFailure(problem, error);
  }
};

const sendTest = (subscription, control) =>
  busy(control, async () => {
    say(done, "");
    say(problem, "");
    try {
      const { sendTestWebhook: result } = await graphql(TEST, { id: subscription.id });
      if (showProblems(problem, result.errors)) {
        return;
      }
      say(done, t("admin.webhooks.test_sent", { url: subscription.url }), "success");
      await load();
    } catch (error) {
      showFailure(problem, error);
    }
  });

// ---------------------------------------------------------------------------------------------
// Recent deliveries with their attempts

const deliveriesDialog = $("deliveries");
let showing = null;

const attemptText = (attempt) =>
  t("admin.webhooks.attempt", {
    time: formatDate(attempt.attemptedAt),
    result:
      attempt.statusCode === null
        ? attempt.error
        : t("admin.webhooks.status_code", { code: attempt.statusCode }) +
          (attempt.error ? ` (${attempt.error})` : ""),
    ms: attempt.durationMs,
  });

const deliveryRow = (delivery) => {
  const row = el("tr");
  const what = el("td");
  what.append(el("code", eventName(delivery.eventType)), el("br"), formatDate(delivery.occurredAt));
  row.append(what, el("td", stateText(delivery), { class: "state" }));
  const attempts = el("td");
  if (delivery.attempts.length) {
    const list = el("ul", "", { class: "attempts" });
    for (const attempt of delivery.attempts) {
      list.append(el("li", attemptText(attempt)));
    }
    attempts.append(list);
  } else {
    attempts.textContent = t("admin.webhooks.no_attempts");
  }
  row.append(attempts);
  return row;
};

const showDeliveries = async () => {
  const status = $("deliveries-status");
  const body = $("delivery-list").querySelector("tbody");
  try {
    const data = await graphql(DELIVERIES, { id: showing.id });
    const deliveries = data.webhookSubscription?.deliveries || [];
    body.replaceChildren(...deliveries.map(deliveryRow));
    say(status, deliveries.length ? "" : t("admin.webhooks.no_deliveries"));
  } catch (error) {
    showFailure(status, error);
  }
};

const openDeliveries = (subscription) => {
  showing = subscription;
  $("deliveries-title").textContent = t("admin.webhooks.deliveries_of", { url: subscription.url });
  $("delivery-list").querySelector("tbody").replaceChildren();
  deliveriesDialog.showModal();
  deliveriesDialog.querySelector("[data-close]").focus();
  showDeliveries();
};
$("deliveries-refresh").addEventListener("click", (event) =>
  busy(event.currentTarget, showDeliveries),
);
deliveriesDialog
  .querySelector("[data-close]")
  .addEventListener("click", () => deliveriesDialog.close());

load();

// The button comes disabled (before this script, a click or Enter would send the form the
// browser's way, with what was typed in the address): it works from here on.
$("new-subscription-submit").disabled = false;
