// Aligo's own Node client (npm aligoapi) calling the simulator's SMS and Kakao APIs.
//
// Environment: ALIGO_SMS_URL and ALIGO_KAKAO_URL (the simulator's base URLs), ALIGO_KEY,
// ALIGO_USER, and CALLS, a JSON list run in order. A call is
//   {"call": <aligoapi function>, "body": {...}, "expect": "ok" | "error",
//    "token": "none" | <a literal token> (Kakao calls only; default: the run's latest token),
//    "files": {"image": {"filename", "contentType", "base64"}}}
// or {"call": "sleep", "ms": N}. A Kakao call carries the token the run's latest successful
// "token" call issued, the way aligoapi's examples keep it in AuthData.
//
// aligoapi hands answers over unchecked, so every answer is checked here for the fields the
// callers of that call read (aligoapi's examples, Aligo's API pages, k-msg); a missing field, a
// wrong type or an ok/error answer other than "expect" ends the run with a non-zero exit. The
// last line of standard output is a JSON list of {"call", "answer"}.

const axios = require("axios");
const FormData = require("form-data");
const { Readable } = require("stream");
const aligoapi = require("aligoapi");

// aligoapi posts to hard-coded hosts through the shared axios instance (require("axios") above
// is the same module it loaded); point those hosts at the simulator and let nothing else out.
function redirectTo(smsUrl, kakaoUrl) {
  const hosts = { "https://apis.aligo.in": smsUrl, "https://kakaoapi.aligo.in": kakaoUrl };
  axios.interceptors.request.use((config) => {
    const host = Object.keys(hosts).find((prefix) => config.url.startsWith(prefix + "/"));
    if (!host) throw new Error(`aligoapi tried to reach ${config.url}`);
    return { ...config, url: hosts[host] + config.url.slice(host.length) };
  });
  // aligoapi turns an HTTP failure into a bare Error("undefined"); say what happened first.
  axios.interceptors.response.use(undefined, (error) => {
    const { config = {}, response } = error;
    const what = response
      ? `HTTP ${response.status} ${JSON.stringify(response.data)}`
      : error.message;
    console.error(`${config.url}: ${what}`);
    throw error;
  });
}

const KAKAO_CALLS = new Set([
  "token",
  "friendList",
  "profileAuth",
  "profileCategory",
  "profileAdd",
  "templateList",
  "templateAdd",
  "templateModify",
  "templateDel",
  "templateRequest",
  "alimtalkSend",
  "friendTalkSend",
  "historyList",
  "historyDetail",
  "kakaoRemain",
  "kakaoCancel",
]);

// -- the fields callers read ---------------------------------------------------------------------
const isText = (v) => typeof v === "string";
const isCount = (v) => Number.isInteger(v);
const isNumber = (v) => typeof v === "number" && Number.isFinite(v);
const isCode = (v) =>
  (typeof v === "number" || typeof v === "string") &&
  String(v).trim() !== "" &&
  Number.isInteger(Number(v));
const isNumericText = (v) => isText(v) && /^\d+$/.test(v);
const isDate = (v) => isText(v) && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(v);
const isDateOrEmpty = (v) => v === "" || isDate(v);
const isId = (v) => (isCount(v) && v > 0) || isNumericText(v);
const isYN = (v) => v === "Y" || v === "N";
const oneOf = (...values) => (v) => values.includes(v);
const listOf = (shape) => (v, path) => {
  if (!Array.isArray(v)) fail(path, "a list", v);
  v.forEach((item, i) => check(shape, item, `${path}[${i}]`));
  return true;
};

function fail(path, wanted, value) {
  throw new Error(`${path} should be ${wanted}, got ${JSON.stringify(value)}`);
}

function check(shape, value, path) {
  if (typeof shape === "function") {
    if (shape.length === 2) return shape(value, path);
    if (!shape(value)) fail(path, shape.name || "valid", value);
    return true;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(path, "an object", value);
  }
  for (const [key, inner] of Object.entries(shape)) {
    if (!(key in value)) fail(`${path}.${key}`, "present", undefined);
    check(inner, value[key], `${path}.${key}`);
  }
  return true;
}

const SMS_OK = { result_code: (v) => Number(v) === 1, message: isText };
const isMessage = (v) => isText(v) && v !== "";
const SMS_ERROR = { result_code: (v) => isCode(v) && Number(v) < 0, message: isMessage };
const KAKAO_OK = { code: (v) => Number(v) === 0, message: isText };
const KAKAO_ERROR = { code: (v) => isCode(v) && Number(v) !== 0, message: isMessage };

const SMS_SENT = {
  ...SMS_OK,
  msg_id: isId,
  success_cnt: isCount,
  error_cnt: isCount,
  msg_type: oneOf("SMS", "LMS", "MMS"),
};
const CHANNEL = {
  senderKey: isText,
  uuid: isText,
  name: isText,
  status: isText,
  cdate: isDate,
  udate: isDate,
};
const TEMPLATE = {
  templtCode: isText,
  templtName: isText,
  templtContent: isText,
  inspStatus: oneOf("REG", "REQ", "APR", "REJ"),
  status: isText,
  cdate: isDate,
  udate: isDate,
  buttons: listOf({}),
  comments: listOf({}),
};
const CATEGORY = { parentCode: isText, code: isText, name: isText };
const KAKAO_SENT = {
  ...KAKAO_OK,
  info: {
    type: isText,
    mid: isId,
    current: isNumber,
    unit: isNumber,
    total: isNumber,
    scnt: isCount,
    fcnt: isCount,
  },
};
const PAGING = { currentPage: isNumericText, totalPage: isNumericText, totalCount: isNumericText };

const ANSWERS = {
  send: SMS_SENT,
  sendMass: SMS_SENT,
  list: {
    ...SMS_OK,
    list: listOf({
      mid: isId,
      type: oneOf("SMS", "LMS", "MMS"),
      sender: isText,
      sms_count: isNumericText,
      reserve_state: isText,
      msg: isText,
      fail_count: isNumericText,
      reg_date: isDate,
      reserve: isDateOrEmpty,
    }),
    next_yn: isYN,
  },
  smsList: {
    ...SMS_OK,
    list: listOf({
      mdid: isId,
      type: oneOf("SMS", "LMS", "MMS"),
      sender: isText,
      receiver: isText,
      sms_state: isText,
      reg_date: isDate,
      send_date: isDateOrEmpty,
      reserve_date: isDateOrEmpty,
    }),
    next_yn: isYN,
  },
  remain: { ...SMS_OK, SMS_CNT: isCount, LMS_CNT: isCount, MMS_CNT: isCount },
  cancel: { ...SMS_OK, cancel_date: isDate },
  token: { ...KAKAO_OK, token: isMessage, urlencode: isMessage },
  friendList: { ...KAKAO_OK, list: listOf(CHANNEL) },
  profileAuth: KAKAO_OK,
  profileCategory: {
    ...KAKAO_OK,
    data: {
      firstBusinessType: listOf(CATEGORY),
      secondBusinessType: listOf(CATEGORY),
      thirdBusinessType: listOf(CATEGORY),
    },
  },
  profileAdd: { ...KAKAO_OK, data: CHANNEL },
  templateList: { ...KAKAO_OK, list: listOf(TEMPLATE) },
  templateAdd: { ...KAKAO_OK, data: TEMPLATE },
  templateModify: { ...KAKAO_OK, data: TEMPLATE },
  templateDel: KAKAO_OK,
  templateRequest: KAKAO_OK,
  alimtalkSend: KAKAO_SENT,
  friendTalkSend: KAKAO_SENT,
  historyList: {
    ...KAKAO_OK,
    list: listOf({
      mid: isId,
      type: isText,
      sender: isText,
      msg_count: isNumericText,
      mbody: isText,
      reserve_date: isDateOrEmpty,
      reserve_state: isText,
      reg_date: isDate,
    }),
    ...PAGING,
  },
  historyDetail: {
    ...KAKAO_OK,
    list: listOf({
      msgid: isId,
      type: isText,
      sender: isText,
      phone: isText,
      status: isText,
      reqdate: isDate,
      sentdate: isDateOrEmpty,
      rsltdate: isDateOrEmpty,
      reportdate: isDateOrEmpty,
      rslt: isText,
      rslt_message: isText,
      message: isText,
      button_json: isText,
      tpl_code: isText,
      senderKey: isText,
      smid: isText,
    }),
    ...PAGING,
  },
  kakaoRemain: {
    ...KAKAO_OK,
    list: { SMS_CNT: isCount, LMS_CNT: isCount, MMS_CNT: isCount, ALT_CNT: isCount },
  },
  kakaoCancel: KAKAO_OK,
};

// -- requests as aligoapi expects them: an Express-like request ----------------------------------
function jsonRequest(body) {
  return { headers: { "content-type": "application/json" }, body };
}

// A multipart request stream, which is how aligoapi gets files (it re-reads them with multiparty).
function multipartRequest(body, files) {
  const form = new FormData();
  for (const [key, value] of Object.entries(body)) form.append(key, String(value));
  for (const [key, file] of Object.entries(files)) {
    const { filename, contentType } = file;
    form.append(key, Buffer.from(file.base64, "base64"), { filename, contentType });
  }
  const request = Readable.from([form.getBuffer()]);
  request.headers = { ...form.getHeaders(), "content-length": String(form.getLengthSync()) };
  return request;
}

async function main() {
  const env = process.env;
  redirectTo(env.ALIGO_SMS_URL, env.ALIGO_KAKAO_URL);
  const smsAuth = { key: env.ALIGO_KEY, user_id: env.ALIGO_USER };
  let token = null;
  const results = [];
  for (const step of JSON.parse(env.CALLS)) {
    const { call, body = {}, expect = "ok" } = step;
    if (call === "sleep") {
      await new Promise((done) => setTimeout(done, step.ms));
      continue;
    }
    if (typeof aligoapi[call] !== "function") throw new Error(`aligoapi has no function ${call}`);
    const kakao = KAKAO_CALLS.has(call);
    let auth = smsAuth;
    if (kakao) {
      auth = { apikey: env.ALIGO_KEY, userid: env.ALIGO_USER };
      const carried = step.token === undefined ? token : step.token;
      if (call !== "token" && carried !== "none" && carried !== null) auth.token = carried;
    }
    const request = step.files ? multipartRequest(body, step.files) : jsonRequest(body);
    const answer = await aligoapi[call](request, auth);
    const shape = expect === "ok" ? ANSWERS[call] : kakao ? KAKAO_ERROR : SMS_ERROR;
    check(shape, answer, `${call}(${results.length})`);
    if (call === "token" && expect === "ok") token = answer.token;
    results.push({ call, answer });
  }
  console.log(JSON.stringify(results));
}

main().catch((error) => {
  console.error(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
