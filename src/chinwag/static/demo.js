// The /demo page: pick a user, chat in the demo group (Inbox), or watch it as a guest (Chatbox).
// Uses only the public Talk SDK, like an integrator's page would.

(async function () {
  const demo = window.CHINWAG_DEMO;
  const params = new URLSearchParams(location.search);
  const userId = params.get("user");
  const conversationId = params.get("conversationId") || demo.conversationId;
  const asGuest = params.get("guest") === "1" || userId === "supervisor";
  const link = (query) => `/demo?${new URLSearchParams({ app: demo.appId, ...query })}`;

  const who = document.getElementById("who");
  for (const u of demo.users) {
    const a = document.createElement("a");
    a.href = link({ user: u.id, conversationId });
    a.textContent = u.name.replace(" (supervisor)", "");
    a.className = "chip";
    if (u.id === userId) a.setAttribute("aria-current", "page");
    who.append(a);
  }

  if (demo.disabled) {
    const pick = document.getElementById("pick");
    pick.hidden = false;
    pick.querySelector("h1").textContent = "The demo is off";
    pick.querySelector("p").textContent = demo.disabled;
    return;
  }

  if (!userId) {
    document.getElementById("pick").hidden = false;
    const people = document.getElementById("people");
    for (const u of demo.users) {
      const a = document.createElement("a");
      a.href = link({ user: u.id });
      a.className = "person";
      a.innerHTML = `<span class="face" aria-hidden="true"></span><strong></strong><small></small>`;
      a.querySelector(".face").textContent = u.name[0];
      a.querySelector("strong").textContent = u.name;
      a.querySelector("small").textContent = u.id === "supervisor" ? "watches as a guest" : "group participant";
      people.append(a);
    }
    return;
  }

  const user = demo.users.find((u) => u.id === userId);
  document.title = `${user ? user.name : userId} · Chinwag demo`;
  const guestLink = document.getElementById("guest-link");
  guestLink.href = link({ user: "supervisor", conversationId });
  guestLink.hidden = asGuest;
  document.getElementById("chat").hidden = false;

  await Talk.ready;
  const me = new Talk.User(user ? { id: user.id, name: user.name } : userId);
  const session = new Talk.Session({ appId: demo.appId, me });
  const container = document.getElementById("chat-ui");
  const intro = document.getElementById("intro");

  if (asGuest) {
    intro.innerHTML = "<strong>Guest view.</strong> You follow the group in real time and can write, but you are not a participant: you are not in the header, get no notifications and the conversation is not in your inbox.";
    const chatbox = session.createChatbox();
    chatbox.select(conversationId, { asGuest: true });
    chatbox.mount(container);
  } else {
    intro.innerHTML = "<strong>Inbox.</strong> Your conversations, newest first, with unread counts. Try another user in a second tab, and the supervisor as a guest.";
    const inbox = session.createInbox({ selected: conversationId });
    inbox.mount(container);
    window.chinwagInbox = inbox;
  }
  window.chinwagSession = session;
})();
