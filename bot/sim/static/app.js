/* LiveOps sandbox chat page.
 *
 * Talks to the local Feishu simulator (same origin, JSON under /_sim/). Plain browser
 * JavaScript, no build step and no external resources. Structure:
 *   utilities (DOM, escaping, time) -> API + pollers -> chat list -> messages ->
 *   message content (text/post/file) -> cards (Feishu card JSON 2.0, and the 1.0 basics)
 *   -> charts (VChart when the sandbox serves it, else own SVG) -> composer -> clock -> boot.
 */
(function () {
  'use strict';

  // ---------------------------------------------------------------- utilities

  var $ = function (id) { return document.getElementById(id); };

  /** Build an element. props: class, text, html (trusted only), on<event>, style{}, attrs. */
  function h(tag, props) {
    var el = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k === 'html') el.innerHTML = v;
        else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
        else if (k.slice(0, 2) === 'on' && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else if (k === 'disabled' || k === 'checked' || k === 'hidden' || k === 'open' || k === 'selected' || k === 'multiple') el[k] = !!v;
        else el.setAttribute(k, v === true ? '' : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, kid) {
    if (kid === null || kid === undefined || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { append(el, k); }); return; }
    el.append(kid instanceof Node ? kid : String(kid));
  }

  function esc(s) {
    return String(s === null || s === undefined ? '' : s)
      .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  }

  function svgEl(tag, attrs) {
    var el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    for (var i = 2; i < arguments.length; i++) if (arguments[i]) el.appendChild(arguments[i]);
    return el;
  }

  var ICONS = {
    pin: '<svg viewBox="0 0 24 24" width="13" height="13" aria-hidden="true"><path d="M15 3l6 6-3 1-4 4 1 5-2 2-4-4-5 5-1-1 5-5-4-4 2-2 5 1 4-4z" fill="currentColor"/></svg>',
    file: '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true"><path d="M6 2h8l6 6v13a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1z" fill="#3370ff"/><path d="M14 2v6h6" fill="#9db8ff"/><path d="M8 13h8M8 17h6" stroke="#fff" stroke-width="1.6" stroke-linecap="round"/></svg>',
    image: '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true"><rect x="3" y="4" width="18" height="16" rx="2" fill="#e1eaff"/><circle cx="9" cy="10" r="2" fill="#3370ff"/><path d="M4 18l5-5 3 3 3-4 5 6z" fill="#3370ff"/></svg>',
    chart: '<svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true"><path d="M4 20V10M10 20V4M16 20v-7M22 20H2" stroke="currentColor" stroke-width="2" stroke-linecap="round" fill="none"/></svg>',
    bot: '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><rect x="4" y="7" width="16" height="12" rx="4" fill="#fff"/><circle cx="9" cy="13" r="1.6" fill="#3370ff"/><circle cx="15" cy="13" r="1.6" fill="#3370ff"/><path d="M12 3v4" stroke="#fff" stroke-width="2" stroke-linecap="round"/><circle cx="12" cy="3" r="1.5" fill="#fff"/></svg>',
    group: '<svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true"><circle cx="9" cy="8" r="3.2" fill="currentColor"/><path d="M2.5 19c.6-3.6 3.3-5.5 6.5-5.5s5.9 1.9 6.5 5.5z" fill="currentColor"/><circle cx="17" cy="9" r="2.4" fill="currentColor" opacity=".6"/><path d="M16.5 13.6c2.6.2 4.5 1.9 5 5.4h-4.3" fill="currentColor" opacity=".6"/></svg>',
    spinner: '<span class="spin" aria-hidden="true"></span>'
  };

  var AVATAR_COLORS = ['#3370ff', '#00b386', '#ff8800', '#7f3bf5', '#f54a45', '#14a9ff', '#d136d1', '#2ea121', '#e57b00', '#4954e6'];
  function hashStr(s) {
    var x = 0; s = String(s || '');
    for (var i = 0; i < s.length; i++) x = (x * 31 + s.charCodeAt(i)) | 0;
    return Math.abs(x);
  }
  function initials(name) {
    name = String(name || '?').trim();
    if (/^[\x00-\x7f]+$/.test(name)) {
      var parts = name.split(/[\s_.-]+/).filter(Boolean);
      if (parts.length > 1) return (parts[0][0] + parts[1][0]).toUpperCase();
      return name.slice(0, 2).toUpperCase();
    }
    var chars = Array.from(name.replace(/\s+/g, ''));
    return chars.length <= 2 ? chars.join('') : chars.slice(-2).join('');
  }
  function groupChar(name) { // first letter, digit or CJK character, skipping brackets like 【】
    var chars = Array.from(String(name || ''));
    for (var i = 0; i < chars.length; i++) if (/[0-9A-Za-z\u3400-\u9fff\uf900-\ufaff]/.test(chars[i])) return chars[i].toUpperCase();
    return '群';
  }
  function avatar(id, name, opts) {
    opts = opts || {};
    var cls = 'avatar' + (opts.size ? ' avatar-' + opts.size : '') + (opts.square ? ' avatar-square' : '');
    if (opts.bot) return h('span', { class: cls + ' avatar-bot', title: name, html: ICONS.bot });
    var text = opts.group ? groupChar(name) : initials(name);
    return h('span', { class: cls, title: name, style: { background: AVATAR_COLORS[hashStr(id) % AVATAR_COLORS.length] } }, text);
  }

  // ---- time (the bot's clock is shown in Asia/Shanghai, UTC+8, no DST)

  function parseTime(iso) {
    if (!iso) return null;
    if (typeof iso === 'number') return new Date(iso > 1e12 ? iso : iso * 1000);
    var s = String(iso);
    if (/^\d+$/.test(s)) return parseTime(Number(s));
    // A naive timestamp is taken as UTC (the simulator works in UTC).
    if (!/(Z|[+-]\d\d:?\d\d)$/i.test(s)) s += 'Z';
    var d = new Date(s);
    return isNaN(d) ? null : d;
  }
  function sh(d) { // fields of d as seen in Asia/Shanghai
    var t = new Date(d.getTime() + 8 * 3600 * 1000);
    return { y: t.getUTCFullYear(), mo: t.getUTCMonth() + 1, d: t.getUTCDate(), w: t.getUTCDay(), h: t.getUTCHours(), mi: t.getUTCMinutes(), s: t.getUTCSeconds() };
  }
  var WEEK = '日一二三四五六';
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function dayKey(d) { var p = sh(d); return p.y * 10000 + p.mo * 100 + p.d; }
  function fmtClock(d) { var p = sh(d); return p.mo + '月' + p.d + '日 周' + WEEK[p.w] + ' ' + pad(p.h) + ':' + pad(p.mi); }
  function fmtHM(d) { var p = sh(d); return pad(p.h) + ':' + pad(p.mi); }
  function fmtMsgTime(d) {
    var now = botNow();
    var p = sh(d);
    if (dayKey(d) === dayKey(now)) return fmtHM(d);
    if (p.y === sh(now).y) return p.mo + '月' + p.d + '日 ' + fmtHM(d);
    return p.y + '年' + p.mo + '月' + p.d + '日 ' + fmtHM(d);
  }
  function fmtDay(d) {
    var now = botNow();
    var p = sh(d);
    var diff = Math.round((Date.UTC(p.y, p.mo - 1, p.d) - Date.UTC(sh(now).y, sh(now).mo - 1, sh(now).d)) / 86400000);
    var base = (p.y !== sh(now).y ? p.y + '年' : '') + p.mo + '月' + p.d + '日 周' + WEEK[p.w];
    if (diff === 0) return '今天 · ' + base;
    if (diff === -1) return '昨天 · ' + base;
    return base;
  }
  /** When a message was sent, on the bot's (the sandbox's) clock; real time without one. */
  function msgTime(m) { return parseTime(m.clock_time || m.create_time); }
  function fmtFull(d) { var p = sh(d); return p.y + '-' + pad(p.mo) + '-' + pad(p.d) + ' ' + pad(p.h) + ':' + pad(p.mi) + ':' + pad(p.s) + '（北京时间）'; }

  function fmtNum(v) {
    if (typeof v !== 'number' || !isFinite(v)) return String(v);
    var a = Math.abs(v);
    if (a >= 1e8) return +(v / 1e8).toFixed(2) + '亿';
    if (a >= 1e4) return +(v / 1e4).toFixed(a >= 1e5 ? 1 : 2) + '万';
    if (a >= 100 || Number.isInteger(v)) return String(Math.round(v * 100) / 100);
    return String(+v.toFixed(2));
  }
  function fmtBytes(n) {
    if (typeof n !== 'number') return '';
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
    return (n / 1024 / 1024).toFixed(1) + ' MB';
  }

  // ---------------------------------------------------------------- state

  var LS = {
    get: function (k) { try { return localStorage.getItem('liveops.sim.' + k); } catch (e) { return null; } },
    set: function (k, v) { try { localStorage.setItem('liveops.sim.' + k, v); } catch (e) { /* private mode */ } }
  };

  var S = {
    bot: { open_id: '', name: 'LiveOps' },
    users: [],
    names: {},              // open_id -> name
    me: null,               // selected user open_id
    chats: [],
    chatsLoaded: false,
    known: {},              // chat_id -> true once seen in a list
    seen: {},               // chat_id -> message_count already seen
    fresh: {},              // chat_id -> true for chats that appeared after the page loaded
    current: null,          // open chat_id
    token: 0,               // bumps on chat switch; stale poll results are dropped
    msgs: {},               // message_id -> message
    nodes: {},              // message_id -> DOM node
    order: [],              // message_ids in display order
    lastSeq: 0,
    lastDay: null,
    clock: { now: null, at: 0, adjustable: false },
    jumps: [],              // fast-forwards [{from: Date, to: Date}] (GET /_sim/clock)
    unfolded: {},           // jump start ISO -> true once its messages were expanded
    online: true
  };

  function botNow() {
    if (!S.clock.now) return new Date();
    return new Date(S.clock.now.getTime() + (Date.now() - S.clock.at));
  }
  function nameOf(id) {
    if (id === 'all') return '所有人';
    if (id && id === S.bot.open_id) return S.bot.name;
    return S.names[id] || id;
  }
  function chatById(id) { for (var i = 0; i < S.chats.length; i++) if (S.chats[i].chat_id === id) return S.chats[i]; return null; }
  /** People in a group as Feishu counts them: the members and, when it is in, the bot. */
  function memberCount(c) {
    var humans = (c.members || []).filter(function (id) { return id !== S.bot.open_id; }).length;
    return humans + (c.bot_in_chat && c.chat_type !== 'p2p' ? 1 : 0);
  }
  function chatTitle(c) {
    if (c.name) return c.name;
    if (c.chat_type === 'p2p') return S.bot.name + '（单聊）';
    return '未命名群聊';
  }

  // ---------------------------------------------------------------- API

  function api(method, path, body, isForm) {
    var opt = { method: method, headers: { 'Accept': 'application/json' } };
    if (body !== undefined) {
      if (isForm) opt.body = body;
      else { opt.headers['Content-Type'] = 'application/json'; opt.body = JSON.stringify(body); }
    }
    return fetch(path, opt).then(function (r) {
      return r.text().then(function (txt) {
        var data = null;
        try { data = txt ? JSON.parse(txt) : null; } catch (e) { data = null; }
        if (!r.ok) {
          var msg = (data && (data.error || data.message || data.msg)) || ('HTTP ' + r.status + (txt && !data ? '：' + txt.slice(0, 160) : ''));
          var err = new Error(msg); err.status = r.status; throw err;
        }
        return data;
      });
    }, function (e) {
      var err = new Error('无法连接到沙盒服务'); err.network = true; err.cause = e; throw err;
    });
  }

  function setOnline(ok) {
    if (S.online === ok) return;
    S.online = ok;
    $('connBanner').hidden = ok;
  }

  /** A self-rescheduling poll that never overlaps itself; kick() runs it right away. */
  function poller(fn, ms) {
    var timer = null, running = false, again = false;
    function run() {
      clearTimeout(timer);
      if (running) { again = true; return; }
      running = true;
      Promise.resolve().then(fn).then(function () { setOnline(true); }, function (e) {
        if (e && e.network) setOnline(false);
        else console.warn('poll failed', e);
      }).then(function () {
        running = false;
        if (again) { again = false; run(); } else timer = setTimeout(run, ms);
      });
    }
    return { kick: run };
  }

  // ---------------------------------------------------------------- toasts & modal

  function toast(content, type) {
    type = type || 'info';
    var icon = { success: '✓', error: '✕', warning: '!', info: 'i' }[type] || 'i';
    var el = h('div', { class: 'toast toast-' + type, role: 'status' },
      h('span', { class: 'toast-icon' }, icon), h('span', { class: 'toast-text' }, content));
    $('toasts').appendChild(el);
    setTimeout(function () { el.classList.add('toast-out'); }, 2600);
    setTimeout(function () { el.remove(); }, 3000);
    return el;
  }

  function confirmBox(title, text) {
    return new Promise(function (resolve) {
      $('modalTitle').textContent = title || '确认操作';
      $('modalText').textContent = text || '';
      $('modal').hidden = false;
      function done(v) {
        $('modal').hidden = true;
        $('modalOk').onclick = $('modalCancel').onclick = null;
        resolve(v);
      }
      $('modalOk').onclick = function () { done(true); };
      $('modalCancel').onclick = function () { done(false); };
      $('modalOk').focus();
    });
  }

  // ---------------------------------------------------------------- users

  function renderUserPicker() {
    var sel = $('userSelect');
    sel.innerHTML = '';
    S.users.forEach(function (u) { sel.appendChild(h('option', { value: u.open_id, selected: u.open_id === S.me }, u.name)); });
    updateUserAvatar();
  }
  function updateUserAvatar() {
    var slot = $('userAvatar');
    slot.replaceWith(Object.assign(avatar(S.me, nameOf(S.me), { size: 'sm' }), { id: 'userAvatar' }));
  }
  function setUser(id) {
    S.me = id;
    LS.set('user', id);
    updateUserAvatar();
    renderChatList();
    var visible = visibleChats();
    if (S.current && visible.some(function (c) { return c.chat_id === S.current; })) {
      reRenderMessages(); // alignment of "my" messages changes
      updateComposer();
    } else {
      openChat(visible.length ? visible[0].chat_id : null);
    }
  }

  // ---------------------------------------------------------------- chat list

  function visibleChats() {
    var q = $('chatFilter').value.trim().toLowerCase();
    return S.chats.filter(function (c) {
      if (!S.me || (c.members || []).indexOf(S.me) < 0) return false;
      return !q || chatTitle(c).toLowerCase().indexOf(q) >= 0 || (c.description || '').toLowerCase().indexOf(q) >= 0;
    }).sort(function (a, b) { return (b.last_seq || 0) - (a.last_seq || 0); });
  }

  function unreadOf(c) {
    if (c.chat_id === S.current) return 0;
    return Math.max(0, (c.message_count || 0) - (S.seen[c.chat_id] || 0));
  }

  var pollChats = poller(function () {
    return Promise.all([api('GET', '/_sim/chats'), fetchClock()]).then(function (res) {
      ingestChats(res[0] || []);
    });
  }, 2500);

  function ingestChats(list) {
    var first = !S.chatsLoaded;
    var appeared = [];
    list.forEach(function (c) {
      if (!S.known[c.chat_id]) {
        S.known[c.chat_id] = true;
        if (first) S.seen[c.chat_id] = c.message_count || 0;
        else { S.seen[c.chat_id] = 0; S.fresh[c.chat_id] = true; appeared.push(c); }
      }
    });
    S.chats = list;
    S.chatsLoaded = true;
    if (S.current && chatById(S.current)) {
      S.seen[S.current] = chatById(S.current).message_count || 0;
      renderChatHeader();
      var cur = chatById(S.current);
      if (cur && (cur.last_seq || 0) > S.lastSeq) pollMsgs.kick();
    }
    renderChatList();
    appeared.forEach(function (c) {
      if ((c.members || []).indexOf(S.me) < 0) return;
      var t = toast((c.created_by_bot ? '机器人创建了新群：' : '你被加入了新群：') + chatTitle(c), 'info');
      t.classList.add('toast-click');
      t.title = '点击打开';
      t.addEventListener('click', function () { openChat(c.chat_id); t.remove(); });
    });
    if (first && !S.current) {
      var want = LS.get('chat');
      var vis = visibleChats();
      var pick = vis.filter(function (c) { return c.chat_id === want; })[0] || vis[0];
      openChat(pick ? pick.chat_id : null);
    }
  }

  var listSig = '';
  function renderChatList() {
    var ul = $('chatList');
    var vis = visibleChats();
    var sig = JSON.stringify([S.me, S.current, S.chatsLoaded, $('chatFilter').value, S.bot.name, vis.map(function (c) {
      return [c.chat_id, chatTitle(c), c.description, c.chat_type, c.bot_in_chat, c.created_by_bot, memberCount(c), unreadOf(c), !!S.fresh[c.chat_id]];
    })]);
    if (sig === listSig) return;
    listSig = sig;
    ul.innerHTML = '';
    var total = 0;
    vis.forEach(function (c) {
      var unread = unreadOf(c);
      total += unread;
      var isP2p = c.chat_type === 'p2p';
      var sub = c.description || (isP2p ? '与机器人的单聊' : memberCount(c) + ' 位成员');
      var tags = [], subTags = [];
      if (S.fresh[c.chat_id]) tags.push(h('span', { class: 'tag tag-new' }, '新'));
      if (c.created_by_bot && !isP2p) subTags.push(h('span', { class: 'tag tag-bot' }, '机器人建'));
      if (isP2p) subTags.push(h('span', { class: 'tag' }, '单聊'));
      if (!c.bot_in_chat && !isP2p) subTags.push(h('span', { class: 'tag tag-grey', title: '机器人不在此群' }, '无机器人'));
      var li = h('li', {
        class: 'chat-item' + (c.chat_id === S.current ? ' active' : '') + (S.fresh[c.chat_id] ? ' fresh' : ''),
        role: 'option', 'aria-selected': c.chat_id === S.current ? 'true' : 'false', tabindex: '0',
        'data-chat': c.chat_id, title: chatTitle(c),
        onclick: function () { openChat(c.chat_id); closeNav(); },
        onkeydown: function (e) { if (e.key === 'Enter') { openChat(c.chat_id); closeNav(); } }
      },
        isP2p ? avatar(S.bot.open_id, S.bot.name, { bot: true }) : avatar(c.chat_id, chatTitle(c), { group: true, square: true }),
        h('div', { class: 'chat-item-main' },
          h('div', { class: 'chat-item-top' }, h('span', { class: 'chat-item-name' }, chatTitle(c)), tags),
          h('div', { class: 'chat-item-sub' }, subTags, h('span', { class: 'chat-item-subtext' }, sub))),
        unread ? h('span', { class: 'badge' }, unread > 99 ? '99+' : String(unread)) : null);
      ul.appendChild(li);
    });
    if (!vis.length) {
      ul.appendChild(h('li', { class: 'chat-list-empty' }, S.chatsLoaded ? ($('chatFilter').value ? '没有匹配的会话' : '该用户还没有加入任何会话') : '加载中…'));
    }
    $('chatCount').textContent = vis.length ? String(vis.length) : '';
    document.title = (total ? '(' + total + ') ' : '') + 'LiveOps 沙盒';
    var navBadge = $('navToggle');
    navBadge.classList.toggle('has-unread', total > 0);
  }

  // ---------------------------------------------------------------- chat header

  var headerSig = '';
  function renderChatHeader() {
    var box = $('chatHeader');
    var c = chatById(S.current);
    var sig = JSON.stringify([S.me, S.current, S.bot, S.names, c && [c.name, c.chat_type, c.members, c.bot_in_chat, c.description, c.created_by_bot]]);
    if (sig === headerSig) return;
    headerSig = sig;
    box.innerHTML = '';
    if (!c) { box.appendChild(h('div', { class: 'chat-empty-title' }, '选择一个会话开始')); return; }
    var members = (c.members || []).filter(function (id) { return id !== S.bot.open_id; });
    var memberList = h('div', { class: 'member-pop' },
      c.bot_in_chat ? h('div', { class: 'member' }, avatar(S.bot.open_id, S.bot.name, { bot: true, size: 'xs' }), h('span', null, S.bot.name), h('span', { class: 'bot-tag' }, '机器人')) : null,
      members.map(function (id) {
        return h('div', { class: 'member' }, avatar(id, nameOf(id), { size: 'xs' }), h('span', null, nameOf(id)), id === S.me ? h('span', { class: 'me-tag' }, '我') : null);
      }));
    var isP2p = c.chat_type === 'p2p';
    box.appendChild(h('div', { class: 'chat-title-row' },
      h('span', { class: 'chat-title' }, chatTitle(c)),
      isP2p ? h('span', { class: 'tag' }, '单聊') : null,
      c.created_by_bot && !isP2p ? h('span', { class: 'tag tag-bot' }, '机器人创建') : null,
      !isP2p ? (c.bot_in_chat ? h('span', { class: 'tag tag-ok' }, '机器人已入群') : h('span', { class: 'tag tag-warn' }, '机器人未入群')) : null,
      h('details', { class: 'members' },
        h('summary', null, h('span', { html: ICONS.group }), ' ' + memberCount(c) + ' 位成员'),
        memberList)));
    if (c.description) box.appendChild(h('div', { class: 'chat-desc', title: c.description }, c.description));
  }

  // ---------------------------------------------------------------- messages

  var pollMsgs = poller(function () {
    if (!S.current) return null;
    var chatId = S.current, token = S.token;
    return api('GET', '/_sim/chats/' + encodeURIComponent(chatId) + '/messages?after=' + S.lastSeq).then(function (list) {
      if (token !== S.token) return;
      ingestMessages(list || []);
    });
  }, 1000);

  function openChat(chatId) {
    S.token++;
    S.current = chatId;
    S.msgs = {}; S.nodes = {}; S.order = []; S.lastSeq = 0; S.lastDay = null;
    $('messages').innerHTML = '';
    $('newMsgPill').hidden = true;
    clearReply();
    hideError();
    if (chatId) {
      LS.set('chat', chatId);
      delete S.fresh[chatId];
      var c = chatById(chatId);
      if (c) S.seen[chatId] = c.message_count || 0;
      $('messages').appendChild(h('div', { class: 'messages-loading' }, '加载中…'));
    }
    renderChatHeader();
    renderChatList();
    updateComposer();
    if (chatId) {
      var token = S.token;
      api('GET', '/_sim/chats/' + encodeURIComponent(chatId) + '/messages?after=0').then(function (list) {
        if (token !== S.token) return;
        $('messages').innerHTML = '';
        ingestMessages(list || [], true);
        if (!S.order.length) showEmptyMessages();
        scrollToBottom();
        pollMsgs.kick();
      }, function (e) {
        if (token !== S.token) return;
        $('messages').innerHTML = '';
        $('messages').appendChild(h('div', { class: 'messages-empty error' }, '加载消息失败：' + e.message));
      });
    } else {
      $('messages').appendChild(h('div', { class: 'messages-empty' }, S.chatsLoaded ? '当前用户没有可用的会话，换一个用户试试' : ''));
    }
  }

  function showEmptyMessages() {
    $('messages').appendChild(h('div', { class: 'messages-empty', id: 'emptyHint' }, '还没有消息，发送 /帮助 试试'));
  }

  function isAtBottom() {
    var w = $('messagesWrap');
    return w.scrollHeight - w.scrollTop - w.clientHeight < 80;
  }
  function scrollToBottom() {
    var w = $('messagesWrap');
    w.scrollTop = w.scrollHeight;
    $('newMsgPill').hidden = true;
  }

  var stickNext = false; // scroll to the bottom on the next batch (after the user sent something)

  /** Merge messages (sorted or not) into the open chat. Same message_id = in-place update. */
  function ingestMessages(list, initial) {
    if (!list.length) return;
    list = list.slice().sort(function (a, b) { return (a.seq || 0) - (b.seq || 0); });
    var stick = initial || stickNext || isAtBottom();
    stickNext = false;
    var appendedOther = false, appendedMine = false;
    var empty = $('emptyHint'); if (empty && list.length) empty.remove();
    list.forEach(function (m) {
      if (m.chat_id && m.chat_id !== S.current) return;
      if (typeof m.seq === 'number' && m.seq > S.lastSeq) S.lastSeq = m.seq;
      var old = S.msgs[m.message_id];
      if (old) {
        if ((m.seq || 0) <= (old.seq || 0)) return;
        S.msgs[m.message_id] = m;
        var node = renderMessage(m);
        S.nodes[m.message_id].replaceWith(node);
        S.nodes[m.message_id] = node;
        if (!initial) node.classList.add('flash');
        refreshQuotesOf(m.message_id);
        return;
      }
      S.msgs[m.message_id] = m;
      S.order.push(m.message_id);
      var d = msgTime(m);
      if (d) {
        var k = dayKey(d);
        if (k !== S.lastDay) { S.lastDay = k; $('messages').appendChild(h('div', { class: 'day-divider' }, h('span', null, fmtDay(d)))); }
      }
      var n = renderMessage(m);
      S.nodes[m.message_id] = n;
      $('messages').appendChild(n);
      if (m.sender && m.sender.id === S.me) appendedMine = true; else appendedOther = true;
    });
    var c = chatById(S.current);
    if (c) S.seen[S.current] = Math.max(c.message_count || 0, S.order.length);
    refold();
    if (stick || appendedMine) scrollToBottom();
    else if (appendedOther) $('newMsgPill').hidden = false;
  }

  // ---- messages that piled up during a fast-forward: one summary per jump, per group

  var FOLD_MIN = 3; // fewer than this are shown as they are

  function jumpOf(m) {
    if (!S.jumps.length || !m.clock_time || !m.sender || m.sender.type !== 'app') return -1;
    var t = parseTime(m.clock_time).getTime();
    for (var i = S.jumps.length - 1; i >= 0; i--) {
      var j = S.jumps[i];
      if (t > j.from.getTime() && t <= j.to.getTime() + 1000) return i;
    }
    return -1;
  }
  function kindOf(m) { // "📋 检查点：设备联调（T-2小时）" -> "📋 检查点", "⏰ 提醒 #1" -> "⏰ 提醒"
    var c = m.content || {};
    var s = m.msg_type === 'interactive' ? textOf((cardHeader(c) || {}).title || '') : preview(m);
    s = String(s || '').split(/[：:\n（(]/)[0].replace(/[#\d].*$/, '').replace(/\s+/g, ' ').trim();
    return Array.from(s).slice(0, 12).join('') || '[' + m.msg_type + ']';
  }
  /** Messages that @ the person the page acts as (or everyone) stay in view in a fold. */
  function addressesMe(m) {
    if ((m.mentions || []).some(function (x) { return x.open_id === S.me; })) return true;
    var raw = JSON.stringify(m.content || '');
    return raw.indexOf(S.me) >= 0 || /<at (?:user_)?id=\\?"?all|"user_id":"all"/.test(raw);
  }
  function refold() {
    var box = $('messages');
    Array.prototype.forEach.call(box.querySelectorAll('.jump-fold'), function (n) { n.remove(); });
    Array.prototype.forEach.call(box.querySelectorAll('.folded'), function (n) { n.classList.remove('folded'); });
    var runs = {};
    S.order.forEach(function (id) {
      var j = jumpOf(S.msgs[id]);
      if (j >= 0) (runs[j] = runs[j] || []).push(id);
    });
    Object.keys(runs).forEach(function (j) {
      var ids = runs[j], jump = S.jumps[j], key = jump.from.toISOString(), open = !!S.unfolded[key];
      // what @s you, and what arrived at the time jumped to (its last minute), stay in view
      var arrival = jump.to.getTime() - 60000;
      var hidden = ids.filter(function (id) {
        var m = S.msgs[id];
        return !addressesMe(m) && parseTime(m.clock_time).getTime() < arrival;
      });
      if (hidden.length < FOLD_MIN) return;
      if (!open) hidden.forEach(function (id) { S.nodes[id].classList.add('folded'); });
      var counts = {}, order = [];
      hidden.forEach(function (id) { var k = kindOf(S.msgs[id]); if (!counts[k]) order.push(k); counts[k] = (counts[k] || 0) + 1; });
      order.sort(function (a, b) { return counts[b] - counts[a]; });
      var kinds = order.slice(0, 6).map(function (k) { return k + ' ×' + counts[k]; }).join(' · ') + (order.length > 6 ? ' …' : '');
      var shown = ids.length - hidden.length;
      var fold = h('div', { class: 'jump-fold' + (open ? ' open' : ''), 'data-jump': key },
        h('div', { class: 'jump-fold-head' }, '⏩ 快进 ' + fmtMsgTime(jump.from) + ' → ' + fmtMsgTime(jump.to) +
          ' 期间，机器人在本群按时发了 ' + ids.length + ' 条消息' +
          (shown ? '，@你的和刚到的 ' + shown + ' 条照常显示' : '')),
        h('div', { class: 'jump-fold-kinds' }, (open ? '' : '已折叠：') + kinds),
        h('button', { type: 'button', class: 'jump-fold-btn', onclick: function () {
          if (S.unfolded[key]) delete S.unfolded[key]; else S.unfolded[key] = true;
          refold();
          if (!S.unfolded[key]) scrollToBottom();
        } }, open ? '收起' : '展开 ' + hidden.length + ' 条'));
      var first = S.nodes[hidden[0]];
      first.parentNode.insertBefore(fold, first);
    });
    // a day divider whose next message is folded goes with it
    Array.prototype.forEach.call(box.querySelectorAll('.day-divider'), function (d) {
      var n = d.nextElementSibling;
      while (n && n.classList.contains('jump-fold')) n = n.nextElementSibling;
      if (n && n.classList.contains('folded')) d.classList.add('folded');
    });
  }

  function reRenderMessages() {
    var keep = S.order.map(function (id) { return S.msgs[id]; });
    var token = S.token;
    S.msgs = {}; S.nodes = {}; S.order = []; S.lastDay = null;
    $('messages').innerHTML = '';
    var lastSeq = S.lastSeq;
    ingestMessages(keep, true);
    S.lastSeq = lastSeq;
    S.token = token;
    if (!keep.length && S.current) showEmptyMessages();
  }

  function refreshQuotesOf(parentId) {
    S.order.forEach(function (id) {
      var m = S.msgs[id];
      if (m.parent_id === parentId) {
        var q = S.nodes[id].querySelector('.reply-quote');
        if (q) q.replaceWith(renderQuote(m));
      }
    });
  }

  var URGENT_KIND = { app: '应用内加急', sms: '短信加急', phone: '电话加急' };

  function renderMessage(m) {
    var sender = m.sender || {};
    var isBot = sender.type === 'app';
    var isOurBot = isBot && (!S.bot.open_id || sender.id === S.bot.open_id || (S.bot.app_id && sender.id === S.bot.app_id) || sender.name === S.bot.name);
    var mine = !isBot && sender.id === S.me;
    var d = msgTime(m);
    var senderName = sender.name || nameOf(sender.id) || '未知';

    var meta = h('div', { class: 'msg-meta' },
      h('span', { class: 'msg-name' }, senderName),
      isBot ? h('span', { class: 'bot-tag' }, '机器人') : null,
      d ? h('span', { class: 'msg-time', title: fmtFull(d) }, fmtMsgTime(d)) : null);

    var urgentUsers = [];
    (m.urgent || []).forEach(function (u) {
      var names = (u.users || []).map(nameOf);
      urgentUsers = urgentUsers.concat(u.users || []);
      meta.appendChild(h('span', { class: 'urgent-badge', title: (URGENT_KIND[u.kind] || '加急') + '：' + names.join('、') }, '加急'));
      meta.appendChild(h('span', { class: 'urgent-to' }, (URGENT_KIND[u.kind] || u.kind || '') + ' → ' + names.join('、')));
    });
    if (m.pinned) meta.appendChild(h('span', { class: 'pin-mark', title: '已置顶' }, h('span', { html: ICONS.pin }), '已置顶'));
    if (m.updated) meta.appendChild(h('span', { class: 'updated-mark' }, m.msg_type === 'interactive' ? '已更新' : '已编辑'));

    var body = renderContent(m);
    var replyBtn = h('button', { type: 'button', class: 'msg-action', title: '回复这条消息', onclick: function () { setReply(S.msgs[m.message_id] || m); } }, '回复');
    meta.appendChild(replyBtn);
    var wrap = h('div', {
      class: 'msg' + (mine ? ' mine' : '') + (isBot ? ' from-bot' : '') + (urgentUsers.indexOf(S.me) >= 0 ? ' urgent-me' : '') + (m.pinned ? ' pinned' : ''),
      'data-id': m.message_id, 'data-seq': m.seq
    },
      isBot ? avatar(sender.id, senderName, { bot: isOurBot }) : avatar(sender.id, senderName),
      h('div', { class: 'msg-col' },
        meta,
        m.parent_id ? renderQuote(m) : null,
        body));
    return wrap;
  }

  function renderQuote(m) {
    var p = S.msgs[m.parent_id];
    var text = p ? ((p.sender && p.sender.name) || nameOf(p.sender && p.sender.id)) + '：' + preview(p) : '回复了一条消息';
    return h('div', {
      class: 'reply-quote', title: p ? '点击定位到原消息' : '',
      onclick: function () {
        var n = S.nodes[m.parent_id];
        if (n) { n.scrollIntoView({ block: 'center', behavior: 'smooth' }); n.classList.remove('flash'); void n.offsetWidth; n.classList.add('flash'); }
      }
    }, h('span', { class: 'reply-bar' }), h('span', { class: 'reply-text' }, text));
  }

  function stripAt(text, mentions) {
    text = replaceMentionKeys(String(text || ''), mentions, function (id, name) { return '@' + (id === 'all' ? '所有人' : (name || nameOf(id))); });
    return text.replace(/<at\s+[^>]*?(?:user_id|id|open_id)\s*=\s*["']?([^"'\s>]+)["']?[^>]*>([\s\S]*?)<\/at>/gi, function (_, id, name) {
      return '@' + (id === 'all' ? '所有人' : (name || nameOf(id)));
    });
  }
  function preview(m) {
    var c = m.content || {};
    switch (m.msg_type) {
      case 'text': return stripAt(c.text, m.mentions).slice(0, 80);
      case 'post': {
        var p = postBody(c);
        if (p.title) return p.title;
        var s = '';
        (p.content || []).forEach(function (line) {
          (line || []).forEach(function (e) {
            var mk = e.tag === 'at' ? mentionOf(m.mentions, e.user_id) : null;
            s += e.text || (e.tag === 'at' ? '@' + (mk ? mk.name : (e.user_name || nameOf(e.user_id))) : '');
          });
          s += ' ';
        });
        return s.trim().slice(0, 80) || '[富文本]';
      }
      case 'interactive': {
        var hd = cardHeader(c);
        return '[卡片] ' + (hd && hd.title ? textOf(hd.title) : '');
      }
      case 'image': return '[图片]';
      case 'file': return '[文件] ' + (c.file_name || '');
      default: return '[' + m.msg_type + ']';
    }
  }

  // ---------------------------------------------------------------- message content

  function renderContent(m) {
    var c = m.content;
    if (typeof c === 'string') { try { c = JSON.parse(c); } catch (e) { c = { text: c }; } }
    c = c || {};
    try {
      switch (m.msg_type) {
        case 'text': return h('div', { class: 'bubble text', html: textToHtml(c.text, m.mentions) });
        case 'post': return renderPost(c, m.mentions);
        case 'image': return renderFileChip(c, true);
        case 'file': return renderFileChip(c, false);
        case 'interactive': return renderCard(c, { mid: m.message_id, form: null });
        default:
          return h('div', { class: 'bubble text muted' }, '[' + (m.msg_type || '未知') + ' 消息]');
      }
    } catch (e) {
      console.error('render failed', m, e);
      return h('div', { class: 'bubble text muted' }, '[无法显示的消息：' + e.message + ']');
    }
  }

  function atChip(id, name) {
    id = String(id || '');
    var isAll = id === 'all';
    var label = isAll ? '所有人' : (name && String(name).trim()) || nameOf(id);
    var me = isAll || (id && id === S.me);
    return '<span class="at' + (me ? ' at-me' : '') + '" data-user="' + esc(id) + '">@' + esc(label) + '</span>';
  }

  function safeUrl(u) {
    u = String(u || '').trim();
    return /^(https?:|mailto:|lark:|feishu:|tel:)/i.test(u) ? u : null;
  }
  function linkHtml(url, innerHtml) {
    var u = safeUrl(url);
    if (!u) return innerHtml;
    return '<a href="' + esc(u) + '" target="_blank" rel="noopener noreferrer">' + innerHtml + '</a>';
  }

  var URL_RE = /https?:\/\/[^\s<>"'()\u0000，。；、！？）】]+/g;

  /** Received-message mentions: "@_user_1" keys listed in m.mentions [{key, open_id, name}]. */
  function mentionKeys(mentions) {
    return (mentions || []).filter(function (x) { return x && x.key; })
      .sort(function (a, b) { return b.key.length - a.key.length; });
  }
  function replaceMentionKeys(text, mentions, fn) {
    mentionKeys(mentions).forEach(function (x) {
      text = text.split(x.key).join(fn(x.open_id || x.id || '', x.name));
    });
    return text.replace(/@_all\b/g, function () { return fn('all', ''); });
  }

  /** Plain text message: escape everything, turn mentions into chips and URLs into links. */
  function textToHtml(text, mentions) {
    text = String(text === null || text === undefined ? '' : text).replace(/\u0000/g, '');
    var ph = [];
    function keep(x) { return '\u0000' + (ph.push(x) - 1) + '\u0000'; }
    text = replaceMentionKeys(text, mentions, function (id, name) { return keep(atChip(id, name)); });
    text = text.replace(/<at\s+[^>]*?(?:user_id|id|open_id)\s*=\s*["']?([^"'\s>]+)["']?[^>]*>([\s\S]*?)<\/at>/gi, function (_, id, name) { return keep(atChip(id, name)); });
    text = text.replace(URL_RE, function (u) { return keep(linkHtml(u, esc(u))); });
    text = esc(text);
    return text.replace(/\u0000(\d+)\u0000/g, function (_, n) { return ph[+n]; });
  }

  function postBody(c) {
    if (c && (c.content || c.title)) return c;
    var lang = c && (c.zh_cn || c.en_us || c.ja_jp || c[Object.keys(c)[0]]);
    return lang || { content: [] };
  }

  function mentionOf(mentions, key) {
    return (mentions || []).filter(function (x) { return x && x.key === key; })[0] || null;
  }
  function renderPost(c, mentions) {
    var p = postBody(c);
    var box = h('div', { class: 'bubble post' });
    if (p.title) box.appendChild(h('div', { class: 'post-title' }, p.title));
    (p.content || []).forEach(function (line) {
      var row = h('div', { class: 'post-line' });
      (line || []).forEach(function (e) {
        switch (e.tag) {
          case 'text': {
            var span = h('span', null, e.text || '');
            (e.style || []).forEach(function (s) { span.classList.add('st-' + s); });
            if (e.un_escape) span.textContent = (e.text || '').replace(/&nbsp;/g, ' ');
            row.appendChild(span); break;
          }
          case 'a': row.appendChild(h('span', { html: linkHtml(e.href, esc(e.text || e.href)) })); break;
          case 'text_tag': case 'emoji': row.appendChild(h('span', { class: 'emotion' }, e.text || e.emoji_type || '')); break;
          case 'at': {
            var mk = mentionOf(mentions, e.user_id);
            row.appendChild(h('span', { html: mk ? atChip(mk.open_id || mk.id, mk.name) : atChip(e.user_id === '@_all' ? 'all' : e.user_id, e.user_name) }));
            break;
          }
          case 'img': row.appendChild(imgPlaceholder('图片', e.image_key)); break;
          case 'media': row.appendChild(imgPlaceholder('视频', e.file_key)); break;
          case 'emotion': row.appendChild(h('span', { class: 'emotion' }, '[' + (e.emoji_type || '表情') + ']')); break;
          case 'hr': row.appendChild(h('hr', { class: 'post-hr' })); break;
          case 'code_block': row.appendChild(h('pre', { class: 'md-code' }, h('code', null, e.text || ''))); break;
          case 'md': row.appendChild(h('div', { class: 'md', html: mdToHtml(e.text) })); break;
          default: row.appendChild(unsupported(e.tag));
        }
      });
      box.appendChild(row);
    });
    return box;
  }

  function renderFileChip(c, isImage) {
    var name = c.file_name || (isImage ? '' : '未命名文件');
    return h('div', { class: 'file-chip' + (isImage ? ' is-image' : '') },
      h('span', { class: 'file-icon', html: isImage ? ICONS.image : ICONS.file }),
      h('div', { class: 'file-info' },
        h('div', { class: 'file-name' }, isImage ? (name ? '[图片] ' + name : '[图片]') : name),
        h('div', { class: 'file-meta' }, [isImage ? '图片' : fileKind(name), fmtBytes(c.file_size)].filter(Boolean).join(' · '))));
  }
  function fileKind(name) {
    var ext = (String(name).split('.').pop() || '').toLowerCase();
    var map = { xlsx: 'Excel 表格', xls: 'Excel 表格', csv: 'CSV 表格', docx: 'Word 文档', doc: 'Word 文档', pdf: 'PDF 文档', pptx: '演示文稿', zip: '压缩包', txt: '文本', mp4: '视频', png: '图片', jpg: '图片' };
    return map[ext] || (ext && ext !== String(name).toLowerCase() ? ext.toUpperCase() + ' 文件' : '文件');
  }

  function imgPlaceholder(label, key, alt) {
    return h('div', { class: 'img-ph', title: key || '' },
      h('span', { html: ICONS.image }),
      h('span', { class: 'img-ph-text' }, alt || ('[' + label + ']')),
      key ? h('span', { class: 'img-ph-key' }, key) : null);
  }

  function unsupported(tag) {
    return h('div', { class: 'unsupported' }, '[不支持的元素: ' + (tag || '?') + ']');
  }

  // ---------------------------------------------------------------- markdown (Feishu card flavour)

  var MD_COLORS = ['red', 'green', 'grey', 'gray', 'orange', 'blue', 'yellow', 'purple', 'violet', 'wathet', 'turquoise', 'carmine', 'indigo', 'default', 'lime', 'neutral'];

  function colorAttr(attrs) {
    var m = /color\s*=\s*(["']?)([^"'\s>]+)\1/i.exec(attrs || '');
    return m ? m[2].toLowerCase() : '';
  }

  function mdInline(s, noLinks) {
    s = String(s === null || s === undefined ? '' : s).replace(/\u0000/g, '');
    var ph = [];
    function keep(x) { return '\u0000' + (ph.push(x) - 1) + '\u0000'; }
    s = s.replace(/`([^`]+)`/g, function (_, c) { return keep('<code class="md-icode">' + esc(c) + '</code>'); });
    s = s.replace(/<at\s+[^>]*?(?:id|user_id|open_id|email)\s*=\s*["']?([^"'\s>]+)["']?[^>]*>([\s\S]*?)<\/at>/gi, function (_, id, name) { return keep(atChip(id, name)); });
    s = s.replace(/<br\s*\/?>/gi, function () { return keep('<br>'); });
    if (!noLinks) {
      s = s.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, function (_, t, u) { return keep(linkHtml(u, mdInline(t, true))); });
      s = s.replace(/<link\b([^>]*)>([\s\S]*?)<\/link>/gi, function (_, a, t) {
        var um = /url\s*=\s*(["'])(.*?)\1/i.exec(a);
        return keep(linkHtml(um ? um[2] : '', mdInline(t, true)));
      });
      s = s.replace(URL_RE, function (u) { return keep(linkHtml(u, esc(u))); });
    }
    // <font color> and <text_tag color>, kept balanced.
    var open = [];
    s = s.replace(/<(\/?)(font|text_tag)\b([^>]*)>/gi, function (_, close, tag, attrs) {
      tag = tag.toLowerCase();
      if (!close) {
        open.push(tag);
        var col = colorAttr(attrs);
        if (tag === 'text_tag') return keep('<span class="tt tt-' + (MD_COLORS.indexOf(col) >= 0 ? col : 'neutral') + '">');
        if (/^#[0-9a-f]{3,8}$/i.test(col)) return keep('<span style="color:' + col + '">');
        if (/^rgba?\([\d\s,.%]+\)$/i.test(col)) return keep('<span style="color:' + col + '">');
        return keep('<span class="fc fc-' + (MD_COLORS.indexOf(col) >= 0 ? col : 'default') + '">');
      }
      var idx = open.lastIndexOf(tag);
      if (idx < 0) return '';
      var out = '';
      while (open.length > idx) { open.pop(); out += '</span>'; }
      return keep(out);
    });
    var tail = '';
    while (open.length) { open.pop(); tail += '</span>'; }
    s = esc(s);
    s = s.replace(/\*\*([^*]+?)\*\*/g, '<strong>$1</strong>')
      .replace(/__([^_]+?)__/g, '<strong>$1</strong>')
      .replace(/~~([^~]+?)~~/g, '<del>$1</del>')
      .replace(/(^|[^*\w])\*(?!\s)([^*]+?)\*(?!\w)/g, '$1<em>$2</em>');
    s = s.replace(/&lt;\/?(?:u|ins)&gt;/gi, '');
    s = s.replace(/\u0000(\d+)\u0000/g, function (_, n) { return ph[+n]; });
    return s + tail;
  }

  function mdToHtml(src) {
    var lines = String(src === null || src === undefined ? '' : src).replace(/\r\n?/g, '\n').split('\n');
    var out = [], para = [], list = null, quote = [];
    function flushPara() { if (para.length) { out.push('<p>' + para.join('<br>') + '</p>'); para = []; } }
    function flushList() { if (list) { out.push('<' + list.type + '>' + list.items.map(function (x) { return '<li>' + x + '</li>'; }).join('') + '</' + list.type + '>'); list = null; } }
    function flushQuote() { if (quote.length) { out.push('<blockquote>' + quote.join('<br>') + '</blockquote>'); quote = []; } }
    function flushAll() { flushPara(); flushList(); flushQuote(); }
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i], m;
      if (/^\s*```/.test(line)) {
        flushAll();
        var code = [];
        for (i++; i < lines.length && !/^\s*```/.test(lines[i]); i++) code.push(lines[i]);
        out.push('<pre class="md-code"><code>' + esc(code.join('\n')) + '</code></pre>');
        continue;
      }
      if ((m = /^\s*[-*+]\s+(.*)$/.exec(line)) && !/^\s*[-*]{3,}\s*$/.test(line)) {
        flushPara(); flushQuote();
        if (!list || list.type !== 'ul') { flushList(); list = { type: 'ul', items: [] }; }
        list.items.push(mdInline(m[1])); continue;
      }
      if ((m = /^\s*(\d+)[.)]\s+(.*)$/.exec(line))) {
        flushPara(); flushQuote();
        if (!list || list.type !== 'ol') { flushList(); list = { type: 'ol', items: [] }; }
        list.items.push(mdInline(m[2])); continue;
      }
      flushList();
      if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) { flushAll(); var lv = Math.min(m[1].length, 4); out.push('<h' + (lv + 2) + ' class="md-h">' + mdInline(m[2]) + '</h' + (lv + 2) + '>'); continue; }
      if (/^\s*(-{3,}|\*{3,}|_{3,})\s*$/.test(line)) { flushAll(); out.push('<hr class="md-hr">'); continue; }
      if ((m = /^\s*>\s?(.*)$/.exec(line))) { flushPara(); quote.push(mdInline(m[1])); continue; }
      flushQuote();
      if (!line.trim()) { flushPara(); continue; }
      para.push(mdInline(line));
    }
    flushAll();
    return out.join('');
  }

  // ---------------------------------------------------------------- cards

  var TEMPLATES = ['blue', 'wathet', 'turquoise', 'green', 'yellow', 'orange', 'red', 'carmine', 'violet', 'purple', 'indigo', 'grey', 'default'];

  function textOf(t) {
    if (t === null || t === undefined) return '';
    if (typeof t === 'string') return t;
    if (t.content !== undefined) return String(t.content);
    if (t.i18n_content) return t.i18n_content.zh_cn || t.i18n_content.en_us || '';
    if (t.i18n) return t.i18n.zh_cn || t.i18n.en_us || '';
    if (t.text !== undefined) return textOf(t.text);
    return '';
  }
  /** A text object {tag: plain_text|lark_md|markdown, content} as an element. */
  function textObj(t, cls) {
    if (t === null || t === undefined) return null;
    var isMd = t && (t.tag === 'lark_md' || t.tag === 'markdown');
    var el = isMd ? h('div', { class: 'md ' + (cls || ''), html: mdToHtml(textOf(t)) })
      : h('div', { class: 'plain ' + (cls || '') }, textOf(t));
    applyTextStyle(el, t);
    return el;
  }
  function applyTextStyle(el, t) {
    if (!t || typeof t !== 'object') return;
    if (t.text_size) el.classList.add('ts-' + String(t.text_size).replace(/[^\w-]/g, ''));
    if (t.text_align) el.style.textAlign = t.text_align;
    if (t.text_color && MD_COLORS.indexOf(t.text_color) >= 0) el.classList.add('fc', 'fc-' + t.text_color);
    if (t.lines) { el.classList.add('clamp'); el.style.webkitLineClamp = t.lines; }
  }

  function cardHeader(card) {
    return card.header || (card.i18n_header && (card.i18n_header.zh_cn || card.i18n_header.en_us)) || null;
  }
  function cardElements(card) {
    if (card.body && Array.isArray(card.body.elements)) return card.body.elements;
    if (Array.isArray(card.elements)) return card.elements;
    if (card.i18n_elements) return card.i18n_elements.zh_cn || card.i18n_elements.en_us || [];
    return [];
  }

  function renderCard(card, ctx) {
    if (card.type === 'template') {
      return h('div', { class: 'card' }, h('div', { class: 'card-body' }, h('div', { class: 'unsupported' }, '[模板卡片 ' + ((card.data && card.data.template_id) || '') + ']')));
    }
    var cfg = card.config || {};
    var wide = cfg.width_mode === 'fill' || cfg.wide_screen_mode === true;
    var box = h('div', { class: 'card' + (wide ? ' card-wide' : '') + (cfg.width_mode === 'compact' ? ' card-compact' : '') });
    var hd = cardHeader(card);
    if (hd && (hd.title || hd.subtitle)) {
      var tpl = TEMPLATES.indexOf(hd.template) >= 0 ? hd.template : 'default';
      var tags = (hd.text_tag_list || []).map(function (tg) {
        var col = MD_COLORS.indexOf(tg.color) >= 0 ? tg.color : 'neutral';
        return h('span', { class: 'tt tt-' + col }, textOf(tg.text));
      });
      box.appendChild(h('div', { class: 'card-header tpl-' + tpl },
        h('div', { class: 'card-title-row' }, h('div', { class: 'card-title' }, textOf(hd.title)), tags.length ? h('div', { class: 'card-tags' }, tags) : null),
        hd.subtitle ? h('div', { class: 'card-subtitle' }, textOf(hd.subtitle)) : null));
    }
    var body = h('div', { class: 'card-body' });
    body.appendChild(renderElements(cardElements(card), ctx));
    box.appendChild(body);
    return box;
  }

  function renderElements(els, ctx) {
    var frag = document.createDocumentFragment();
    (els || []).forEach(function (el) {
      if (!el || typeof el !== 'object') return;
      var node;
      try { node = renderElement(el, ctx); } catch (e) { console.error('card element failed', el, e); node = unsupported((el.tag || '?') + '（渲染出错）'); }
      if (node) {
        if (node.nodeType === 1 && el.margin) node.style.margin = cssBox(el.margin);
        frag.appendChild(node);
      }
    });
    return frag;
  }
  function cssBox(v) { return String(v).split(/\s+/).map(function (x) { return /^-?\d+$/.test(x) ? x + 'px' : x; }).join(' ').replace(/[^\w\s.%-]/g, ''); }

  function renderElement(el, ctx) {
    switch (el.tag) {
      case 'markdown':
      case 'lark_md': {
        var md = h('div', { class: 'el md', html: mdToHtml(el.content !== undefined ? el.content : textOf(el.text)) });
        applyTextStyle(md, el);
        return md;
      }
      case 'plain_text': { var pt = h('div', { class: 'el plain' }, textOf(el)); applyTextStyle(pt, el); return pt; }
      case 'div': return renderDiv(el, ctx);
      case 'hr': return h('hr', { class: 'el card-hr' });
      case 'column_set': return renderColumnSet(el, ctx);
      case 'column': return h('div', { class: 'col' }, renderElements(el.elements, ctx));
      case 'button': return h('div', { class: 'el el-btn' }, renderButton(el, ctx));
      case 'action': {
        var row = h('div', { class: 'el action-row' + (el.layout === 'flow' ? ' flow' : '') });
        (el.actions || []).forEach(function (a) { row.appendChild(renderElement(a, ctx)); });
        return row;
      }
      case 'form': return renderForm(el, ctx);
      case 'input': return renderInput(el, ctx);
      case 'select_static':
      case 'multi_select_static':
      case 'select_person':
      case 'multi_select_person': return renderSelect(el, ctx);
      case 'date_picker':
      case 'picker_time':
      case 'picker_datetime': return renderPicker(el, ctx);
      case 'checker': return renderChecker(el, ctx);
      case 'overflow': return renderOverflow(el, ctx);
      case 'img': return h('div', { class: 'el' }, imgPlaceholder('图片', el.img_key, textOf(el.alt) || textOf(el.title)));
      case 'img_combination': {
        var grid = h('div', { class: 'el img-grid' });
        (el.img_list || []).forEach(function (im) { grid.appendChild(imgPlaceholder('图片', im.img_key)); });
        return grid;
      }
      case 'note': {
        var note = h('div', { class: 'el note' });
        (el.elements || []).forEach(function (n) {
          if (n.tag === 'img') note.appendChild(h('span', { class: 'note-img', html: ICONS.image }));
          else note.appendChild(h('span', { class: n.tag === 'lark_md' ? 'md-inline' : '', html: n.tag === 'lark_md' ? mdInline(textOf(n)) : esc(textOf(n)) }));
        });
        return note;
      }
      case 'chart': return renderChart(el);
      case 'table': return renderTable(el);
      case 'collapsible_panel': return renderPanel(el, ctx);
      case 'interactive_container': return renderContainer(el, ctx);
      case 'person': return h('div', { class: 'el', html: atChip(el.user_id, '') });
      case 'person_list': return h('div', { class: 'el', html: (el.persons || []).map(function (p) { return atChip(p.id || p.user_id, ''); }).join(' ') });
      case 'text_tag': return h('span', { class: 'el tt tt-' + (MD_COLORS.indexOf(el.color) >= 0 ? el.color : 'neutral') }, textOf(el.text));
      default: return unsupported(el.tag);
    }
  }

  function renderDiv(el, ctx) {
    var box = h('div', { class: 'el div' });
    var main = h('div', { class: 'div-main' });
    if (el.text) main.appendChild(textObj(el.text));
    if (el.fields && el.fields.length) {
      var grid = h('div', { class: 'fields' });
      el.fields.forEach(function (f) {
        var cell = textObj(f.text, 'field');
        if (cell) { cell.classList.add(f.is_short ? 'short' : 'long'); grid.appendChild(cell); }
      });
      main.appendChild(grid);
    }
    box.appendChild(main);
    if (el.extra) {
      box.classList.add('has-extra');
      box.appendChild(h('div', { class: 'div-extra' }, renderElement(el.extra, ctx)));
    }
    return box;
  }

  function renderColumnSet(el, ctx) {
    var row = h('div', { class: 'el colset flex-' + (el.flex_mode || 'none') + (el.background_style && el.background_style !== 'default' ? ' bg-' + el.background_style : '') });
    if (el.horizontal_spacing) row.style.columnGap = /^\d+$/.test(el.horizontal_spacing) ? el.horizontal_spacing + 'px' : ({ small: '4px', medium: '8px', large: '12px', extra_large: '16px' }[el.horizontal_spacing] || String(el.horizontal_spacing).replace(/[^\w.%]/g, ''));
    if (el.horizontal_align) row.style.justifyContent = { left: 'flex-start', center: 'center', right: 'flex-end' }[el.horizontal_align] || 'flex-start';
    (el.columns || []).forEach(function (c) {
      var col = h('div', { class: 'col' + (c.background_style && c.background_style !== 'default' ? ' bg-' + c.background_style : '') });
      if (c.width === 'weighted') col.style.flex = (c.weight || 1) + ' 1 0';
      else if (c.width && /^\d+px$/.test(c.width)) col.style.flex = '0 0 ' + c.width;
      else col.style.flex = '0 0 auto';
      var va = c.vertical_align || 'top';
      col.style.alignSelf = { top: 'flex-start', center: 'center', bottom: 'flex-end' }[va] || 'flex-start';
      if (c.padding) col.style.padding = cssBox(c.padding);
      col.appendChild(renderElements(c.elements, ctx));
      if (c.behaviors && callbackValue(c.behaviors)) {
        col.classList.add('clickable');
        col.addEventListener('click', function (e) { if (e.target.closest('button,input,select,textarea,a')) return; sendAction(ctx, { value: callbackValue(c.behaviors) }, col); });
      }
      row.appendChild(col);
    });
    return row;
  }

  function renderPanel(el, ctx) {
    var hd = el.header || {};
    var title = hd.title || {};
    var d = h('details', { class: 'el panel', open: !!el.expanded },
      h('summary', null,
        h('span', { class: 'panel-title', html: title.tag === 'markdown' || title.tag === 'lark_md' ? mdInline(textOf(title)) : esc(textOf(title) || '展开') }),
        h('span', { class: 'panel-arrow', 'aria-hidden': 'true' })),
      h('div', { class: 'panel-body' }, renderElements(el.elements, ctx)));
    if (hd.background_color && MD_COLORS.indexOf(hd.background_color) >= 0) d.classList.add('bg-' + hd.background_color);
    return d;
  }

  function renderContainer(el, ctx) {
    var cv = callbackValue(el.behaviors);
    var box = h('div', { class: 'el icontainer' + (cv ? ' clickable' : '') + (el.has_border === false ? '' : ' bordered') + (el.background_style && el.background_style !== 'default' ? ' bg-' + el.background_style : '') },
      renderElements(el.elements, ctx));
    if (cv || openUrlOf(el.behaviors)) {
      box.addEventListener('click', function (e) {
        if (e.target.closest('button,input,select,textarea,a,summary')) return;
        if (openUrlOf(el.behaviors)) window.open(openUrlOf(el.behaviors), '_blank', 'noopener');
        if (cv) sendAction(ctx, { value: cv }, box);
      });
    }
    return box;
  }

  // ---- buttons and actions

  function callbackValue(behaviors) {
    var cb = (behaviors || []).filter(function (b) { return b && b.type === 'callback'; })[0];
    return cb ? (cb.value === undefined ? {} : cb.value) : null;
  }
  function openUrlOf(behaviors) {
    var b = (behaviors || []).filter(function (x) { return x && x.type === 'open_url'; })[0];
    return b ? safeUrl(b.default_url || b.pc_url || b.url) : null;
  }

  function renderButton(el, ctx) {
    var type = ['primary', 'default', 'danger', 'primary_filled', 'danger_filled', 'text', 'primary_text', 'danger_text', 'laser'].indexOf(el.type) >= 0 ? el.type : 'default';
    var btn = h('button', {
      type: 'button',
      class: 'cbtn cbtn-' + type + ' cbtn-' + (el.size || 'medium') + (el.width === 'fill' ? ' cbtn-fill' : ''),
      disabled: !!el.disabled,
      title: el.disabled ? textOf(el.disabled_tips) : textOf(el.hover_tips)
    }, h('span', { class: 'cbtn-label' }, textOf(el.text) || '按钮'));
    if (el.name) btn.dataset.name = el.name;
    btn.addEventListener('click', function () { onButton(el, ctx, btn); });
    return btn;
  }

  function onButton(el, ctx, btn) {
    if (btn.disabled) return;
    var url = openUrlOf(el.behaviors) || safeUrl(el.url) || (el.multi_url && safeUrl(el.multi_url.url || el.multi_url.pc_url));
    var value = callbackValue(el.behaviors);
    if (value === null && el.value !== undefined) value = el.value; // card 1.0 buttons
    var confirmP = el.confirm ? confirmBox(textOf(el.confirm.title), textOf(el.confirm.text)) : Promise.resolve(true);
    confirmP.then(function (ok) {
      if (!ok) return;
      if (el.form_action_type === 'reset') { if (ctx.form) resetForm(ctx.form); return; }
      if (url) window.open(url, '_blank', 'noopener');
      var body = { value: value === null ? {} : value };
      if (el.form_action_type === 'submit' || (ctx.form && el.action_type === 'form_submit')) {
        if (!ctx.form) { toast('提交按钮不在表单里', 'warning'); return; }
        var fv = collectForm(ctx.form);
        if (!fv) return; // validation failed
        body.form_value = fv;
      } else if (value === null) {
        if (!url) toast('此按钮没有回调', 'warning');
        return;
      }
      if (el.name) body.name = el.name;
      sendAction(ctx, body, btn);
    });
  }

  function sendAction(ctx, body, btn) {
    body.user = S.me;
    var oldHtml = null;
    if (btn && btn.tagName === 'BUTTON') { oldHtml = btn.innerHTML; btn.classList.add('loading'); btn.disabled = true; btn.insertAdjacentHTML('afterbegin', ICONS.spinner); }
    else if (btn) btn.classList.add('busy');
    return api('POST', '/_sim/cards/' + encodeURIComponent(ctx.mid) + '/actions', body).then(function (res) {
      var r = (res && res.response) || res || {};
      var t = r.toast || (res && res.toast);
      if (t) toast(t.content || textOf(t.i18n) || '', t.type || 'info');
    }, function (e) {
      toast('操作失败：' + e.message, 'error');
    }).then(function () {
      if (btn && btn.isConnected) {
        if (oldHtml !== null) { btn.innerHTML = oldHtml; btn.classList.remove('loading'); btn.disabled = false; }
        else btn.classList.remove('busy');
      }
      pollMsgs.kick();
      setTimeout(function () { pollMsgs.kick(); }, 400);
    });
  }

  // ---- forms

  function registerField(ctx, field) {
    if (ctx.form) ctx.form.fields.push(field);
  }

  function renderForm(el, ctx) {
    var f = h('form', { class: 'el cform', novalidate: true, 'data-name': el.name || '' });
    f.addEventListener('submit', function (e) { e.preventDefault(); });
    var sub = { mid: ctx.mid, form: { el: f, name: el.name, fields: [] } };
    f.appendChild(renderElements(el.elements, sub));
    return f;
  }

  function collectForm(form) {
    var out = {}, bad = null;
    form.fields.forEach(function (fd) {
      var v = fd.get();
      var empty = v === '' || v === null || v === undefined || (Array.isArray(v) && !v.length);
      fd.wrap.classList.toggle('invalid', !!(fd.required && empty));
      if (fd.required && empty && !bad) bad = fd;
      if (!empty || fd.keepEmpty) out[fd.name] = empty && !Array.isArray(v) && typeof v !== 'boolean' ? '' : v;
    });
    if (bad) {
      toast('请填写「' + (bad.label || bad.name) + '」', 'warning');
      var c = bad.wrap.querySelector('input,textarea,select'); if (c) c.focus();
      return null;
    }
    return out;
  }
  function resetForm(form) { form.fields.forEach(function (fd) { fd.reset(); fd.wrap.classList.remove('invalid'); }); }

  function fieldWrap(el, control) {
    var label = textOf(el.label);
    var wrap = h('div', { class: 'el field' + (el.label_position === 'left' ? ' label-left' : '') + (el.width === 'fill' || !el.width ? ' fill' : '') },
      label ? h('label', { class: 'field-label' }, label, el.required ? h('span', { class: 'req' }, '*') : null) : null,
      control,
      h('div', { class: 'field-error' }, '此项必填'));
    return wrap;
  }

  function standaloneChange(el, ctx, getter, anchor) {
    var cv = callbackValue(el.behaviors);
    if (ctx.form || cv === null || !el.name) return null;
    return function () {
      var fv = {}; fv[el.name] = getter();
      sendAction(ctx, { value: cv, form_value: fv, name: el.name }, anchor());
    };
  }

  function renderInput(el, ctx) {
    var multi = el.input_type === 'multiline_text';
    var ph = textOf(el.placeholder);
    var def = el.default_value === undefined ? '' : String(el.default_value);
    var ctl = multi
      ? h('textarea', { class: 'cinput', rows: el.rows || 3, placeholder: ph, maxlength: el.max_length || null })
      : h('input', { class: 'cinput', type: el.input_type === 'password' ? 'password' : 'text', placeholder: ph, maxlength: el.max_length || null });
    ctl.value = def;
    if (el.disabled) ctl.disabled = true;
    var wrap = fieldWrap(el, ctl);
    var get = function () { return ctl.value; };
    registerField(ctx, { name: el.name || 'input', label: textOf(el.label) || ph, required: !!el.required, wrap: wrap, get: get, reset: function () { ctl.value = def; } });
    var fire = standaloneChange(el, ctx, get, function () { return wrap; });
    if (fire) ctl.addEventListener('keydown', function (e) { if (e.key === 'Enter' && !multi && !e.isComposing) { e.preventDefault(); fire(); } });
    ctl.addEventListener('input', function () { wrap.classList.remove('invalid'); });
    return wrap;
  }

  function chatMemberOptions() {
    var c = chatById(S.current);
    return ((c && c.members) || []).map(function (id) { return { value: id, text: { content: nameOf(id) } }; });
  }

  function renderSelect(el, ctx) {
    var multi = el.tag.indexOf('multi_') === 0;
    var person = el.tag.indexOf('person') >= 0;
    var opts = person ? (el.options && el.options.length ? el.options.map(function (o) { return { value: o.value, text: { content: nameOf(o.value) } }; }) : chatMemberOptions()) : (el.options || []);
    var ph = textOf(el.placeholder) || (multi ? '请选择（可多选）' : '请选择');
    var wrap, get, reset;
    if (multi) {
      var init = el.selected_values || [];
      var box = h('div', { class: 'cmulti' });
      opts.forEach(function (o) {
        var cb = h('input', { type: 'checkbox', value: o.value, checked: init.indexOf(o.value) >= 0 });
        box.appendChild(h('label', { class: 'chip-check' }, cb, h('span', null, textOf(o.text))));
      });
      if (!opts.length) box.appendChild(h('span', { class: 'muted' }, ph));
      get = function () { return Array.prototype.filter.call(box.querySelectorAll('input'), function (i) { return i.checked; }).map(function (i) { return i.value; }); };
      reset = function () { Array.prototype.forEach.call(box.querySelectorAll('input'), function (i) { i.checked = init.indexOf(i.value) >= 0; }); };
      wrap = fieldWrap(el, box);
      box.addEventListener('change', function () { wrap.classList.remove('invalid'); });
    } else {
      var sel = h('select', { class: 'cinput cselect' });
      sel.appendChild(h('option', { value: '', disabled: true }, ph));
      opts.forEach(function (o) { sel.appendChild(h('option', { value: o.value }, textOf(o.text))); });
      var initV = el.initial_option !== undefined ? String(el.initial_option) : (el.initial_index ? (opts[el.initial_index - 1] || {}).value : '');
      sel.value = initV || '';
      if (!initV) sel.selectedIndex = 0;
      sel.classList.toggle('empty', !sel.value);
      get = function () { return sel.value; };
      reset = function () { sel.value = initV || ''; if (!initV) sel.selectedIndex = 0; sel.classList.toggle('empty', !sel.value); };
      wrap = fieldWrap(el, sel);
      var fire = standaloneChange(el, ctx, get, function () { return wrap; });
      sel.addEventListener('change', function () { sel.classList.toggle('empty', !sel.value); wrap.classList.remove('invalid'); if (fire) fire(); });
      if (el.disabled) sel.disabled = true;
    }
    registerField(ctx, { name: el.name || el.tag, label: textOf(el.label) || ph, required: !!el.required, wrap: wrap, get: get, reset: reset });
    return wrap;
  }

  // Values are sent the way Feishu sends them: "2025-11-26 +0800", "14:05 +0800", "2025-11-26 14:05 +0800".
  function renderPicker(el, ctx) {
    var kind = { date_picker: 'date', picker_time: 'time', picker_datetime: 'datetime-local' }[el.tag];
    var ctl = h('input', { class: 'cinput cpicker', type: kind, title: textOf(el.placeholder) });
    var init = el.initial_date || el.initial_time || el.initial_datetime || '';
    init = String(init).replace(/\s*[+-]\d{4}$/, '').replace(' ', 'T');
    if (kind === 'date') init = init.slice(0, 10);
    ctl.value = init;
    var wrap = fieldWrap(el, h('div', { class: 'picker-row' }, ctl, textOf(el.placeholder) ? h('span', { class: 'picker-ph' }, textOf(el.placeholder)) : null));
    var get = function () { return ctl.value ? ctl.value.replace('T', ' ') + ' +0800' : ''; };
    registerField(ctx, { name: el.name || el.tag, label: textOf(el.label) || textOf(el.placeholder), required: !!el.required, wrap: wrap, get: get, reset: function () { ctl.value = init; } });
    var fire = standaloneChange(el, ctx, get, function () { return wrap; });
    ctl.addEventListener('change', function () { wrap.classList.remove('invalid'); if (fire) fire(); });
    return wrap;
  }

  function renderChecker(el, ctx) {
    var cb = h('input', { type: 'checkbox', checked: !!el.checked, disabled: !!el.disabled });
    var wrap = h('label', { class: 'el checker' }, cb, h('span', { class: 'md-inline', html: el.text && (el.text.tag === 'lark_md' || el.text.tag === 'markdown') ? mdInline(textOf(el.text)) : esc(textOf(el.text)) }));
    registerField(ctx, { name: el.name || 'checker', label: textOf(el.text), required: false, keepEmpty: true, wrap: wrap, get: function () { return cb.checked; }, reset: function () { cb.checked = !!el.checked; } });
    var cv = callbackValue(el.behaviors);
    if (!ctx.form && cv !== null) cb.addEventListener('change', function () { var fv = {}; fv[el.name || 'checker'] = cb.checked; sendAction(ctx, { value: cv, form_value: fv }, wrap); });
    return wrap;
  }

  function renderOverflow(el, ctx) {
    var d = h('details', { class: 'el overflow' }, h('summary', { title: '更多' }, '⋯'));
    var menu = h('div', { class: 'overflow-menu' });
    (el.options || []).forEach(function (o) {
      menu.appendChild(h('button', {
        type: 'button', class: 'overflow-item',
        onclick: function () {
          d.open = false;
          var url = o.multi_url && safeUrl(o.multi_url.url || o.multi_url.pc_url);
          if (url) window.open(url, '_blank', 'noopener');
          var base = callbackValue(el.behaviors) || el.value || {};
          var v = {}; Object.keys(base).forEach(function (k) { v[k] = base[k]; });
          v.option = o.value;
          sendAction(ctx, { value: v }, null);
        }
      }, textOf(o.text)));
    });
    d.appendChild(menu);
    return d;
  }

  // ---- table component

  function renderTable(el) {
    var cols = el.columns || [];
    var rows = el.rows || [];
    var t = h('table', { class: 'ctable' });
    t.appendChild(h('thead', null, h('tr', null, cols.map(function (c) {
      return h('th', { style: { textAlign: c.horizontal_align || (c.data_type === 'number' ? 'right' : 'left') } }, c.display_name || c.name);
    }))));
    var tb = h('tbody');
    rows.forEach(function (r) {
      tb.appendChild(h('tr', null, cols.map(function (c) {
        var v = r[c.name];
        var td = h('td', { style: { textAlign: c.horizontal_align || (c.data_type === 'number' ? 'right' : 'left') } });
        if (v === null || v === undefined) return td;
        switch (c.data_type) {
          case 'number': td.textContent = typeof v === 'number' ? v.toLocaleString('zh-CN', c.format && c.format.precision !== undefined ? { minimumFractionDigits: c.format.precision, maximumFractionDigits: c.format.precision } : undefined) : String(v); if (c.format && c.format.symbol) td.textContent = c.format.symbol + td.textContent; break;
          case 'lark_md': case 'markdown': td.innerHTML = mdInline(String(v)); break;
          case 'options': (Array.isArray(v) ? v : [v]).forEach(function (o) { td.appendChild(h('span', { class: 'tt tt-' + (MD_COLORS.indexOf(o.color) >= 0 ? o.color : 'neutral') }, o.text || String(o))); }); break;
          case 'persons': td.innerHTML = (Array.isArray(v) ? v : [v]).map(function (p) { return atChip(typeof p === 'string' ? p : p.id, ''); }).join(' '); break;
          case 'date': { var dd = parseTime(v); td.textContent = dd ? fmtMsgTime(dd) : String(v); break; }
          default: td.textContent = typeof v === 'object' ? JSON.stringify(v) : String(v);
        }
        return td;
      })));
    });
    t.appendChild(tb);
    return h('div', { class: 'el ctable-wrap' }, t);
  }

  // ---------------------------------------------------------------- charts (own SVG)

  var SERIES_COLORS = ['#3370ff', '#00b386', '#ff8800', '#f54a45', '#7f3bf5', '#14a9ff', '#ffc60a', '#d136d1'];
  var CHART_NAMES = { line: '折线图', area: '面积图', bar: '柱状图', pie: '饼图', radar: '雷达图', scatter: '散点图', funnel: '漏斗图', wordCloud: '词云', gauge: '仪表盘', rose: '玫瑰图', histogram: '直方图', common: '组合图', circularProgress: '环形进度', linearProgress: '进度条', sankey: '桑基图', treemap: '矩形树图', heatmap: '热力图', waterfall: '瀑布图' };

  function chartValues(spec) {
    var d = spec.data;
    if (!d) return [];
    if (Array.isArray(d)) return d.reduce(function (acc, x) { return acc.concat((x && x.values) || []); }, []);
    return d.values || [];
  }
  function first(x) { return Array.isArray(x) ? x[0] : x; }

  function renderChart(el) {
    var spec = el.chart_spec || {};
    var box = h('div', { class: 'el chart' });
    if (VC.url) vchartLater(box, el);
    else drawOwnChart(box, spec);
    return box;
  }

  function drawOwnChart(box, spec) {
    var type = spec.type || 'unknown';
    var title = spec.title ? (typeof spec.title === 'string' ? spec.title : textOf(spec.title.text || spec.title)) : '';
    var values = chartValues(spec);
    box.dataset.renderer = 'svg';
    box.appendChild(h('div', { class: 'chart-head' },
      h('span', { class: 'chart-icon', html: ICONS.chart }),
      h('span', { class: 'chart-title' }, title || '图表'),
      h('span', { class: 'chart-type' }, CHART_NAMES[type] || type)));
    var drawn = null;
    try {
      if (values.length) {
        if (type === 'line' || type === 'area') drawn = drawXY(spec, values, type);
        else if (type === 'bar' || type === 'histogram' || type === 'waterfall') drawn = drawXY(spec, values, 'bar');
        else if (type === 'pie' || type === 'rose') drawn = drawPie(spec, values);
      }
    } catch (e) { console.warn('chart draw failed', e); drawn = null; }
    if (drawn) box.appendChild(drawn);
    else if (!values.length) box.appendChild(h('div', { class: 'chart-empty' }, '（图表占位：沙盒不渲染此图表）'));
    if (values.length) {
      var tbl = dataTable(values);
      box.appendChild(drawn ? dataDetails(values) : tbl);
    }
  }
  function dataDetails(values) {
    return h('details', { class: 'chart-data' }, h('summary', null, '查看数据（' + values.length + ' 行）'), dataTable(values));
  }

  // ---- VChart (@visactor/vchart, what Feishu draws chart elements with). The sandbox serves its
  // browser build only when dev.py could fetch it, and then names it in <meta name="liveops-vchart">.
  // The page loads it with the first chart, draws each chart once it is near the screen, releases
  // charts whose card was patched or whose chat was left, and falls back to the own SVG above when
  // the library does not load or refuses a spec.

  var VC = { url: (document.querySelector('meta[name="liveops-vchart"]') || {}).content || null, lib: null, jobs: [], seen: null, watch: null };

  function loadVChart() {
    if (!VC.lib) VC.lib = new Promise(function (resolve, reject) {
      var s = h('script', { src: VC.url, async: true });
      s.onload = function () { var m = window.VChart; (m && (m.VChart || m.default)) ? resolve(m.VChart || m.default) : reject(new Error('no window.VChart')); };
      s.onerror = function () { reject(new Error('could not load ' + VC.url)); };
      document.head.appendChild(s);
    });
    return VC.lib;
  }

  function chartSize(el) { // Feishu: height "auto" (from aspect_ratio, 16:9 on desktop) or "1px".."999px"
    var px = /^(\d{1,3})px$/.exec(String(el.height || ''));
    if (px && +px[1] > 0) return { height: px[1] + 'px' };
    var ar = /^(\d+):(\d+)$/.exec(String(el.aspect_ratio || '')) || [null, 16, 9];
    return { aspectRatio: ar[1] + ' / ' + ar[2] };
  }

  function vchartLater(box, el) {
    var job = { box: box, el: el, plot: h('div', { class: 'chart-vchart', style: chartSize(el) }), chart: null };
    box.appendChild(job.plot);
    var values = chartValues(el.chart_spec || {});
    if (values.length) box.appendChild(dataDetails(values));
    if (!VC.seen) {
      VC.seen = new IntersectionObserver(function (entries) {
        entries.forEach(function (e) {
          if (!e.isIntersecting) return;
          VC.seen.unobserve(e.target);
          var j = VC.jobs.filter(function (x) { return x.plot === e.target; })[0];
          if (j) loadVChart().then(function (VChart) { drawVChart(j, VChart); }, function (err) { console.warn('VChart unavailable, charts drawn in SVG:', err.message); ownInstead(j); });
        });
      }, { rootMargin: '300px 0px' });
      VC.watch = new MutationObserver(releaseGoneCharts);
      VC.watch.observe($('messages'), { childList: true, subtree: true });
    }
    VC.jobs.push(job);
    VC.seen.observe(job.plot);
  }

  function drawVChart(job, VChart) {
    if (!job.plot.isConnected || job.chart) return;
    try {
      job.chart = new VChart(JSON.parse(JSON.stringify(job.el.chart_spec)), { dom: job.plot, mode: 'desktop-browser' });
      job.chart.renderSync();
      job.box.dataset.renderer = 'vchart';
    } catch (err) {
      console.warn('VChart could not draw this chart, drawn in SVG instead:', err && err.message);
      ownInstead(job);
    }
  }

  function ownInstead(job) {
    forget(job);
    job.box.innerHTML = '';
    drawOwnChart(job.box, job.el.chart_spec || {});
  }

  function forget(job) {
    VC.jobs = VC.jobs.filter(function (x) { return x !== job; });
    VC.seen.unobserve(job.plot);
    if (job.chart) { try { job.chart.release(); } catch (e) { /* already gone */ } job.chart = null; }
  }

  function releaseGoneCharts() { // a patched card or a switched chat took the chart out of the page
    VC.jobs.filter(function (j) { return !j.plot.isConnected; }).forEach(forget);
  }

  function dataTable(values) {
    var keys = [];
    values.forEach(function (v) { Object.keys(v || {}).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); }); });
    var shown = values.slice(0, 50);
    return h('div', { class: 'ctable-wrap' }, h('table', { class: 'ctable small' },
      h('thead', null, h('tr', null, keys.map(function (k) { return h('th', null, k); }))),
      h('tbody', null, shown.map(function (v) {
        return h('tr', null, keys.map(function (k) { var x = v[k]; return h('td', { style: { textAlign: typeof x === 'number' ? 'right' : 'left' } }, x === undefined || x === null ? '' : typeof x === 'number' ? fmtNum(x) : String(x)); }));
      }))));
  }

  function niceStep(v) { // a round step (1, 2, 2.5, 5 x 10^k) at least v
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var n = v / p;
    return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * p;
  }

  function drawXY(spec, values, kind) {
    var horizontal = spec.direction === 'horizontal';
    var xF = first(horizontal ? spec.yField : spec.xField), yF = first(horizontal ? spec.xField : spec.yField);
    var sF = spec.seriesField || (Array.isArray(spec.xField) && spec.xField.length > 1 && !horizontal ? spec.xField[1] : null);
    if (!xF || !yF) return null;
    var cats = [], series = [];
    values.forEach(function (v) {
      var c = String(v[xF]); if (cats.indexOf(c) < 0) cats.push(c);
      var s = sF ? String(v[sF]) : (typeof yF === 'string' ? yF : '值'); if (series.indexOf(s) < 0) series.push(s);
    });
    var grid = {}; // series -> cat -> value
    var maxV = 0, minV = 0;
    values.forEach(function (v) {
      var y = Number(v[yF]); if (!isFinite(y)) return;
      var s = sF ? String(v[sF]) : series[0];
      (grid[s] = grid[s] || {})[String(v[xF])] = y;
      if (y > maxV) maxV = y; if (y < minV) minV = y;
    });
    var W = 520, H = 220, L = 46, R = 12, T = 14, B = 30;
    var pw = W - L - R, ph = H - T - B;
    var stepV = niceStep(Math.max(maxV - Math.min(minV, 0), 1e-9) / 4);
    var top = Math.max(stepV, Math.ceil(maxV / stepV) * stepV), bottom = minV < 0 ? Math.floor(minV / stepV) * stepV : 0;
    var nTicks = Math.round((top - bottom) / stepV);
    var yPos = function (v) { return T + ph - (v - bottom) / (top - bottom) * ph; };
    var svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'chart-svg', role: 'img' });
    for (var i = 0; i <= nTicks; i++) {
      var gv = bottom + stepV * i, gy = yPos(gv);
      svg.appendChild(svgEl('line', { x1: L, x2: W - R, y1: gy, y2: gy, class: Math.abs(gv) < stepV / 1e6 ? 'axis' : 'gridline' }));
      var lbl = svgEl('text', { x: L - 6, y: gy + 4, 'text-anchor': 'end', class: 'tick' }); lbl.textContent = fmtNum(gv); svg.appendChild(lbl);
    }
    var n = cats.length, step = pw / Math.max(n, 1);
    var every = Math.max(1, Math.ceil(n / 10));
    cats.forEach(function (c, idx) {
      if (idx % every) return;
      var t = svgEl('text', { x: L + step * idx + step / 2, y: H - B + 18, 'text-anchor': 'middle', class: 'tick' });
      t.textContent = c.length > 8 ? c.slice(0, 7) + '…' : c; svg.appendChild(t);
    });
    if (kind === 'bar') {
      var gw = step * 0.7, bw = gw / series.length;
      series.forEach(function (s, si) {
        cats.forEach(function (c, ci) {
          var v = grid[s] && grid[s][c]; if (v === undefined) return;
          var x = L + step * ci + (step - gw) / 2 + bw * si;
          var y0 = yPos(Math.max(0, bottom)), y1 = yPos(v);
          var r = svgEl('rect', { x: x + 1, y: Math.min(y0, y1), width: Math.max(1, bw - 2), height: Math.max(1, Math.abs(y0 - y1)), rx: 2, fill: SERIES_COLORS[si % SERIES_COLORS.length] });
          var tt = svgEl('title'); tt.textContent = c + (series.length > 1 ? ' · ' + s : '') + '：' + fmtNum(v); r.appendChild(tt);
          svg.appendChild(r);
          if (cats.length * series.length <= 12) {
            var vt = svgEl('text', { x: x + bw / 2, y: Math.min(y0, y1) - 4, 'text-anchor': 'middle', class: 'vlabel' }); vt.textContent = fmtNum(v); svg.appendChild(vt);
          }
        });
      });
    } else {
      series.forEach(function (s, si) {
        var color = SERIES_COLORS[si % SERIES_COLORS.length];
        var pts = [];
        cats.forEach(function (c, ci) { var v = grid[s] && grid[s][c]; if (v !== undefined) pts.push([L + step * ci + step / 2, yPos(v), c, v]); });
        if (!pts.length) return;
        var d = pts.map(function (p) { return p[0].toFixed(1) + ',' + p[1].toFixed(1); }).join(' ');
        if (kind === 'area') {
          var base = yPos(Math.max(0, bottom));
          svg.appendChild(svgEl('polygon', { points: pts[0][0].toFixed(1) + ',' + base + ' ' + d + ' ' + pts[pts.length - 1][0].toFixed(1) + ',' + base, fill: color, 'fill-opacity': '0.15' }));
        }
        svg.appendChild(svgEl('polyline', { points: d, fill: 'none', stroke: color, 'stroke-width': 2.2, 'stroke-linejoin': 'round', 'stroke-linecap': 'round' }));
        pts.forEach(function (p) {
          var ci = svgEl('circle', { cx: p[0], cy: p[1], r: 3.2, fill: '#fff', stroke: color, 'stroke-width': 2 });
          var tt = svgEl('title'); tt.textContent = p[2] + (series.length > 1 ? ' · ' + s : '') + '：' + fmtNum(p[3]); ci.appendChild(tt);
          svg.appendChild(ci);
        });
      });
    }
    var wrap = h('div', { class: 'chart-plot' });
    wrap.appendChild(svg);
    if (series.length > 1) wrap.appendChild(legend(series));
    return wrap;
  }

  function legend(names) {
    return h('div', { class: 'chart-legend' }, names.map(function (s, i) {
      return h('span', { class: 'legend-item' }, h('span', { class: 'legend-dot', style: { background: SERIES_COLORS[i % SERIES_COLORS.length] } }), s);
    }));
  }

  function drawPie(spec, values) {
    var cF = spec.categoryField || first(spec.xField), vF = spec.valueField || first(spec.yField) || spec.angleField;
    if (!cF || !vF) return null;
    var items = values.map(function (v) { return { k: String(v[cF]), v: Math.max(0, Number(v[vF]) || 0) }; }).filter(function (x) { return x.v > 0; });
    var total = items.reduce(function (a, x) { return a + x.v; }, 0);
    if (!total) return null;
    var W = 520, H = 200, cx = 110, cy = 100, r = 80, ir = spec.innerRadius ? r * Math.min(0.9, Number(spec.innerRadius) || 0.5) : r * 0.55;
    var svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'chart-svg', role: 'img' });
    var a0 = -Math.PI / 2;
    items.forEach(function (it, i) {
      var a1 = a0 + it.v / total * Math.PI * 2;
      var large = a1 - a0 > Math.PI ? 1 : 0;
      var color = SERIES_COLORS[i % SERIES_COLORS.length];
      var el;
      if (items.length === 1) {
        el = svgEl('circle', { cx: cx, cy: cy, r: (r + ir) / 2, fill: 'none', stroke: color, 'stroke-width': r - ir });
      } else {
        var p = function (a, rr) { return (cx + rr * Math.cos(a)).toFixed(2) + ' ' + (cy + rr * Math.sin(a)).toFixed(2); };
        el = svgEl('path', { d: 'M' + p(a0, r) + ' A' + r + ' ' + r + ' 0 ' + large + ' 1 ' + p(a1, r) + ' L' + p(a1, ir) + ' A' + ir + ' ' + ir + ' 0 ' + large + ' 0 ' + p(a0, ir) + ' Z', fill: color, stroke: '#fff', 'stroke-width': 1.5 });
      }
      var tt = svgEl('title'); tt.textContent = it.k + '：' + fmtNum(it.v) + '（' + (it.v / total * 100).toFixed(1) + '%）'; el.appendChild(tt);
      svg.appendChild(el);
      a0 = a1;
    });
    var tot = svgEl('text', { x: cx, y: cy + 5, 'text-anchor': 'middle', class: 'pie-total' }); tot.textContent = fmtNum(total); svg.appendChild(tot);
    var lx = 240, ly = Math.max(20, cy - items.length * 12);
    items.slice(0, 8).forEach(function (it, i) {
      var y = ly + i * 24;
      svg.appendChild(svgEl('rect', { x: lx, y: y - 9, width: 10, height: 10, rx: 2, fill: SERIES_COLORS[i % SERIES_COLORS.length] }));
      var t = svgEl('text', { x: lx + 18, y: y, class: 'legend-text' }); t.textContent = it.k; svg.appendChild(t);
      var t2 = svgEl('text', { x: W - 16, y: y, 'text-anchor': 'end', class: 'legend-num' }); t2.textContent = fmtNum(it.v) + ' · ' + (it.v / total * 100).toFixed(1) + '%'; svg.appendChild(t2);
    });
    return h('div', { class: 'chart-plot' }, svg);
  }

  // ---------------------------------------------------------------- composer

  function updateComposer() {
    var c = chatById(S.current);
    var ok = !!(c && S.me);
    $('input').disabled = !ok;
    $('sendBtn').disabled = !ok;
    $('atBotBtn').disabled = !ok;
    $('fileBtn').disabled = !ok;
    $('input').placeholder = ok ? '发送给 ' + chatTitle(c) + (c.bot_in_chat || c.chat_type === 'p2p' ? '' : '（机器人不在此群）') : '请选择会话';
    $('atBotBtn').textContent = '@' + S.bot.name;
  }

  var replyTo = null;
  function setReply(m) {
    replyTo = m.message_id;
    $('replyText').textContent = '回复 ' + ((m.sender && m.sender.name) || '') + '：' + preview(m);
    $('replyBox').hidden = false;
    $('input').focus();
  }
  function clearReply() { replyTo = null; $('replyBox').hidden = true; }

  function showError(msg) { var e = $('composerError'); e.textContent = msg; e.hidden = false; }
  function hideError() { $('composerError').hidden = true; }

  function autosize() {
    var t = $('input');
    t.style.height = 'auto';
    t.style.height = Math.min(t.scrollHeight, 180) + 'px';
  }

  function sendMessage() {
    var input = $('input');
    var text = input.value;
    if (!text.trim() || !S.current || !S.me) return;
    var chatId = S.current;
    $('sendBtn').disabled = true;
    $('sendBtn').classList.add('loading');
    var body = { user: S.me, text: text };
    if (replyTo && S.msgs[replyTo]) body.parent_id = replyTo;
    api('POST', '/_sim/chats/' + encodeURIComponent(chatId) + '/messages', body).then(function (msg) {
      hideError();
      if (input.value === text) input.value = '';
      autosize();
      clearReply();
      stickNext = true;
    }, function (e) {
      showError('发送失败：' + e.message);
    }).then(function () {
      $('sendBtn').disabled = false;
      $('sendBtn').classList.remove('loading');
      pollMsgs.kick();
      setTimeout(function () { pollMsgs.kick(); }, 350);
      input.focus();
    });
  }

  function insertAtCursor(str) {
    var t = $('input');
    var s = t.selectionStart !== undefined ? t.selectionStart : t.value.length;
    var e = t.selectionEnd !== undefined ? t.selectionEnd : t.value.length;
    var before = t.value.slice(0, s);
    if (str.charAt(0) === '@' && before && !/\s$/.test(before)) str = ' ' + str;
    t.value = before + str + t.value.slice(e);
    var pos = s + str.length;
    t.focus();
    t.setSelectionRange(pos, pos);
    autosize();
  }

  function uploadFiles(files) {
    if (!S.current || !S.me) return;
    Array.prototype.forEach.call(files, function (f) {
      var fd = new FormData();
      fd.append('user', S.me);
      fd.append('file', f, f.name);
      var note = toast('正在上传：' + f.name, 'info');
      api('POST', '/_sim/chats/' + encodeURIComponent(S.current) + '/files', fd, true).then(function (msg) {
        note.remove();
        hideError();
        stickNext = true;
      }, function (e) {
        note.remove();
        showError('文件发送失败（' + f.name + '）：' + e.message);
      }).then(function () { pollMsgs.kick(); });
    });
  }

  // ---- @ mention suggestions

  var mention = { open: false, items: [], idx: 0, start: 0 };
  function mentionCandidates(q) {
    var c = chatById(S.current);
    var list = [];
    if (c && (c.bot_in_chat || c.chat_type === 'p2p')) list.push({ id: S.bot.open_id, name: S.bot.name, bot: true });
    ((c && c.members) || []).forEach(function (id) { if (id !== S.me && id !== S.bot.open_id) list.push({ id: id, name: nameOf(id) }); });
    q = q.toLowerCase();
    return list.filter(function (x) { return !q || x.name.toLowerCase().indexOf(q) >= 0; }).slice(0, 8);
  }
  function updateMention() {
    var t = $('input');
    var before = t.value.slice(0, t.selectionStart);
    var m = /(^|\s)@([^\s@]{0,20})$/.exec(before);
    if (!m) return closeMention();
    var items = mentionCandidates(m[2]);
    if (!items.length) return closeMention();
    mention = { open: true, items: items, idx: 0, start: before.length - m[2].length - 1, query: m[2] };
    drawMention();
  }
  function drawMention() {
    var pop = $('mentionPop');
    pop.innerHTML = '';
    mention.items.forEach(function (it, i) {
      pop.appendChild(h('li', {
        class: i === mention.idx ? 'active' : '',
        onmousedown: function (e) { e.preventDefault(); pickMention(i); }
      }, avatar(it.id, it.name, { bot: it.bot, size: 'xs' }), h('span', null, it.name), it.bot ? h('span', { class: 'bot-tag' }, '机器人') : null));
    });
    pop.hidden = false;
  }
  function closeMention() { mention.open = false; $('mentionPop').hidden = true; }
  function pickMention(i) {
    var it = mention.items[i];
    var t = $('input');
    var end = t.selectionStart;
    var ins = '@' + it.name + ' ';
    t.value = t.value.slice(0, mention.start) + ins + t.value.slice(end);
    var pos = mention.start + ins.length;
    t.setSelectionRange(pos, pos);
    closeMention();
    t.focus();
    autosize();
  }

  function bindComposer() {
    var t = $('input');
    t.addEventListener('keydown', function (e) {
      if (mention.open) {
        if (e.key === 'ArrowDown') { e.preventDefault(); mention.idx = (mention.idx + 1) % mention.items.length; drawMention(); return; }
        if (e.key === 'ArrowUp') { e.preventDefault(); mention.idx = (mention.idx - 1 + mention.items.length) % mention.items.length; drawMention(); return; }
        // Enter on a name typed in full has nothing left to complete: it sends, as it would without the list
        var typed = mention.items[mention.idx] && mention.items[mention.idx].name.toLowerCase() === String(mention.query || '').toLowerCase();
        if (e.key === 'Enter' && typed && !e.shiftKey && !e.isComposing) closeMention();
        else if ((e.key === 'Enter' || e.key === 'Tab') && !e.isComposing) { e.preventDefault(); pickMention(mention.idx); return; }
        if (e.key === 'Escape') { closeMention(); return; }
      }
      if (e.key === 'Escape' && replyTo) { clearReply(); return; }
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        sendMessage();
      }
    });
    t.addEventListener('input', function () { autosize(); updateMention(); hideError(); });
    t.addEventListener('click', updateMention);
    t.addEventListener('blur', function () { setTimeout(closeMention, 150); });
    t.addEventListener('paste', function (e) {
      var files = e.clipboardData && e.clipboardData.files;
      if (files && files.length) { e.preventDefault(); uploadFiles(files); }
    });
    $('sendBtn').addEventListener('click', sendMessage);
    $('replyCancel').addEventListener('click', clearReply);
    $('atBotBtn').addEventListener('click', function () { insertAtCursor('@' + S.bot.name + ' '); });
    $('fileBtn').addEventListener('click', function () { $('fileInput').click(); });
    $('fileInput').addEventListener('change', function () { uploadFiles(this.files); this.value = ''; });
    $('helpHint').addEventListener('click', function (e) { e.preventDefault(); $('input').value = '/帮助'; autosize(); $('input').focus(); });

    // drag & drop anywhere over the chat pane
    var pane = $('chatPane'), depth = 0;
    function hasFiles(e) { return e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types || [], 'Files') >= 0; }
    pane.addEventListener('dragenter', function (e) { if (!hasFiles(e) || !S.current) return; e.preventDefault(); depth++; $('dropOverlay').hidden = false; });
    pane.addEventListener('dragover', function (e) { if (!hasFiles(e) || !S.current) return; e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; });
    pane.addEventListener('dragleave', function () { depth = Math.max(0, depth - 1); if (!depth) $('dropOverlay').hidden = true; });
    pane.addEventListener('drop', function (e) {
      if (!hasFiles(e)) return;
      e.preventDefault(); depth = 0; $('dropOverlay').hidden = true;
      uploadFiles(e.dataTransfer.files);
    });

    // Keep the view pinned to the bottom when the pane shrinks (reply bar, taller input, narrow layout).
    var pinned = true;
    $('messagesWrap').addEventListener('scroll', function () { pinned = isAtBottom(); if (pinned) $('newMsgPill').hidden = true; });
    if (window.ResizeObserver) new ResizeObserver(function () { if (pinned) $('messagesWrap').scrollTop = $('messagesWrap').scrollHeight; }).observe($('messagesWrap'));
    $('newMsgPill').addEventListener('click', scrollToBottom);
  }

  // ---------------------------------------------------------------- clock

  function fetchClock() {
    return api('GET', '/_sim/clock').then(setClock, function (e) { if (e.network) throw e; });
  }
  function setClock(c) {
    if (!c || !c.now) return;
    var d = parseTime(c.now);
    if (!d) return;
    S.clock = { now: d, at: Date.now(), adjustable: !!c.adjustable };
    var jumps = (c.jumps || []).map(function (j) { return { from: parseTime(j.from), to: parseTime(j.to) }; })
      .filter(function (j) { return j.from && j.to; });
    if (jumps.length !== S.jumps.length) { S.jumps = jumps; refold(); }
    $('clockFF').hidden = !S.clock.adjustable;
    $('clock').classList.toggle('adjustable', S.clock.adjustable);
    drawClock();
  }
  function drawClock() {
    if (!S.clock.now || $('clock').classList.contains('busy')) return;
    var now = botNow();
    var el = $('clockNow');
    var txt = fmtClock(now);
    if (el.textContent !== txt) el.textContent = txt;
    el.title = '机器人时间：' + fmtFull(now);
  }

  function advance(seconds, btn, jumpedTo) {
    if (!(seconds > 0)) { toast('请输入大于 0 的分钟数', 'warning'); return; }
    var btns = document.querySelectorAll('.ff-btn');
    Array.prototype.forEach.call(btns, function (b) { b.disabled = true; });
    if (btn) btn.classList.add('loading');
    $('clock').classList.add('busy');
    $('clockNow').textContent = '快进中…';
    api('POST', '/_sim/clock/advance', { seconds: seconds }).then(function (res) {
      if (res && res.now) setClock(Object.assign({ adjustable: true }, res));
      return fetchClock();
    }).then(function () {
      var label = seconds % 86400 === 0 ? (seconds / 86400) + ' 天' : seconds % 3600 === 0 ? (seconds / 3600) + ' 小时' : (Math.round(seconds / 6) / 10) + ' 分钟';
      toast((jumpedTo ? '已跳到 ' + fmtClock(jumpedTo) : '时钟已快进 ' + label + '，现在 ' + fmtClock(botNow())) +
        '；途中到期的提醒已按时发出', 'success');
    }, function (e) {
      toast('快进失败：' + e.message, 'error');
    }).then(function () {
      Array.prototype.forEach.call(btns, function (b) { b.disabled = false; });
      if (btn) btn.classList.remove('loading');
      $('clock').classList.remove('busy');
      drawClock();
      reRenderMessages(); // times and day dividers are relative to the sandbox's (new) today
      pollMsgs.kick(); pollChats.kick();
      setTimeout(function () { pollMsgs.kick(); pollChats.kick(); }, 800);
    });
  }

  /** dayOffset days from the sandbox's today, at hour:minute Beijing time (UTC+8). */
  function jumpTarget(dayOffset, hour, minute) {
    var p = sh(botNow());
    return new Date(Date.UTC(p.y, p.mo - 1, p.d + dayOffset, hour - 8, minute));
  }

  function bindClock() {
    Array.prototype.forEach.call(document.querySelectorAll('.ff-btn[data-seconds]'), function (b) {
      b.addEventListener('click', function () { advance(Number(b.dataset.seconds), b); });
    });
    $('ffCustom').addEventListener('submit', function (e) {
      e.preventDefault();
      var v = parseFloat($('ffMinutes').value);
      if (!(v > 0)) { toast('请输入大于 0 的分钟数', 'warning'); return; }
      advance(Math.round(v * 60), this.querySelector('button'));
      $('ffMinutes').value = '';
    });
    $('ffJump').addEventListener('submit', function (e) {
      e.preventDefault();
      var hm = /^(\d{1,2}):(\d{2})$/.exec($('jumpTime').value || '');
      if (!hm) { toast('请选择要跳到的时间，例如 09:30', 'warning'); return; }
      var target = jumpTarget(Number($('jumpDay').value), Number(hm[1]), Number(hm[2]));
      // a second past the minute: the page's clock may run a little ahead of the sandbox's
      var seconds = Math.ceil((target.getTime() - botNow().getTime()) / 1000) + 1;
      if (seconds <= 0) { toast(fmtClock(target) + ' 已经过了（现在 ' + fmtClock(botNow()) + '），时钟只能往后走', 'warning'); return; }
      advance(seconds, this.querySelector('button'), target);
    });
    setInterval(drawClock, 1000);
  }

  // ---------------------------------------------------------------- nav (narrow screens)

  function closeNav() { document.body.classList.remove('nav-open'); }
  function bindNav() {
    $('navToggle').addEventListener('click', function () { document.body.classList.toggle('nav-open'); });
    $('scrim').addEventListener('click', closeNav);
    $('chatFilter').addEventListener('input', renderChatList);
    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') { closeNav(); if (!$('modal').hidden) $('modalCancel').click(); }
    });
    // close member popovers / overflow menus when clicking elsewhere
    document.addEventListener('click', function (e) {
      Array.prototype.forEach.call(document.querySelectorAll('details.members[open], details.overflow[open]'), function (d) {
        if (!d.contains(e.target)) d.open = false;
      });
    });
  }

  // ---------------------------------------------------------------- boot

  function boot() {
    bindComposer();
    bindClock();
    bindNav();
    $('userSelect').addEventListener('change', function () { setUser(this.value); });
    updateComposer();
    renderChatList();

    loadBase();
  }

  function loadBase() {
    Promise.all([
      api('GET', '/_sim/bot').catch(function (e) { if (e.network) throw e; return null; }),
      api('GET', '/_sim/users')
    ]).then(function (res) {
      if (res[0]) S.bot = { open_id: res[0].open_id || '', app_id: res[0].app_id || '', name: res[0].name || 'LiveOps' };
      S.users = res[1] || [];
      S.users.forEach(function (u) { S.names[u.open_id] = u.name; });
      var want = LS.get('user');
      S.me = S.users.some(function (u) { return u.open_id === want; }) ? want : (S.users[0] && S.users[0].open_id) || null;
      if (!S.current) $('messages').innerHTML = '';
      renderUserPicker();
      updateComposer();
      setOnline(true);
      pollChats.kick();
    }, function (e) {
      setOnline(false);
      $('messages').innerHTML = '';
      $('messages').appendChild(h('div', { class: 'messages-empty error' }, '无法加载沙盒：' + e.message + '（3 秒后重试）'));
      setTimeout(loadBase, 3000);
    });
  }

  // Exposed for debugging in the console and for the page's own tests.
  window.LiveOpsSandbox = { state: S, mdToHtml: mdToHtml, textToHtml: textToHtml, renderCard: renderCard,
    liveCharts: function () { return VC.jobs.filter(function (j) { return j.chart; }).length; } };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
