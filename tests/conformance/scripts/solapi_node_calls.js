// SOLAPI's Node SDK (npm solapi) calling the simulator: sends, uploads, message and group lists,
// reservations, statistics, the balance, and the Kakao channel and template API.
//
// Environment: SOLAPI_BASE_URL, SOLAPI_API_KEY, SOLAPI_API_SECRET and CALLS, a JSON list of
// {"call": <SolapiMessageService method>, "args": [...]} run in order. The last line of standard
// output is a JSON list with one entry per call: {"value": <what the SDK returned>}, or
// {"error": {...}} when the SDK raised one of its own errors. Dates the SDK turned into Date
// objects print as ISO strings.

const solapi = require("solapi");
const { Schema } = require("effect");

// The SDK decodes most answers with its response schemas but hands these over as they came,
// although it declares their type (index.d.ts) and publishes the schema of that type. They are
// checked against that schema here, the way the SDK checks the others.
const DECLARED_TYPES = {
  send: solapi.detailGroupMessageResponseSchema,
  uploadFile: solapi.fileUploadResponseSchema,
  removeReservationToGroup: solapi.groupMessageResponseSchema,
  requestKakaoChannelToken: solapi.requestKakaoChannelTokenResponseSchema,
  createKakaoChannel: solapi.createKakaoChannelResponseSchema,
  removeKakaoChannel: solapi.kakaoChannelSchema,
  createKakaoAlimtalkTemplate: solapi.kakaoAlimtalkTemplateSchema,
  updateKakaoAlimtalkTemplate: solapi.kakaoAlimtalkTemplateSchema,
  updateKakaoAlimtalkTemplateName: solapi.kakaoAlimtalkTemplateSchema,
  cancelInspectionKakaoAlimtalkTemplate: solapi.kakaoAlimtalkTemplateSchema,
  removeKakaoAlimtalkTemplate: solapi.kakaoAlimtalkTemplateSchema,
};

// Every service SolapiMessageService builds keeps https://api.solapi.com in its own `baseUrl`;
// the services are private and only their bound methods are exposed, so each service's
// `baseUrl` is set as the constructor binds its methods.
function serviceFor(baseUrl, apiKey, apiSecret) {
  const bind = Function.prototype.bind;
  Function.prototype.bind = function (target, ...rest) {
    if (target && typeof target === "object" && "baseUrl" in target) {
      target.baseUrl = baseUrl;
    }
    return bind.call(this, target, ...rest);
  };
  try {
    return new solapi.SolapiMessageService(apiKey, apiSecret);
  } finally {
    Function.prototype.bind = bind;
  }
}

// Nothing may leave for the real service, whatever a call builds its address from.
function onlyTo(baseUrl) {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (url, init) =>
    String(url).startsWith(baseUrl)
      ? realFetch(url, init)
      : Promise.reject(new Error(`refusing to leave the simulator for ${url}`));
}

function checkDeclaredType(call, value, schema = DECLARED_TYPES[call]) {
  if (!schema) return;
  try {
    Schema.decodeUnknownSync(schema, { onExcessProperty: "preserve" })(value);
  } catch (problem) {
    throw new Error(`${call} answered outside the SDK's declared type:\n${problem.message}`);
  }
}

// MessageNotReceivedError hands over the answer's failedMessageList as the SDK's FailedMessage
// type without decoding it.
function checkRefusal(call, error) {
  if (error instanceof solapi.MessageNotReceivedError) {
    checkDeclaredType(call, error.failedMessageList, Schema.Array(solapi.failedMessageSchema));
  }
}

function describeError(error) {
  return {
    tag: error._tag || error.name,
    isClientError: error instanceof solapi.ClientError,
    errorCode: error.errorCode,
    errorMessage: error.errorMessage,
    httpStatus: error.httpStatus,
    failedMessageList: error.failedMessageList,
    message: String(error.message),
  };
}

async function main() {
  const env = process.env;
  onlyTo(env.SOLAPI_BASE_URL);
  const service = serviceFor(env.SOLAPI_BASE_URL, env.SOLAPI_API_KEY, env.SOLAPI_API_SECRET);
  const results = [];
  for (const { call, args } of JSON.parse(env.CALLS)) {
    if (typeof service[call] !== "function") throw new Error(`the SDK has no method ${call}`);
    let value;
    try {
      value = await service[call](...(args || []));
    } catch (error) {
      // A schema mismatch is the simulator answering what the SDK cannot take: the test fails.
      if (error instanceof solapi.ResponseSchemaMismatchError) throw error;
      checkRefusal(call, error);
      results.push({ error: describeError(error) });
      continue;
    }
    checkDeclaredType(call, value);
    results.push({ value });
  }
  console.log(JSON.stringify(results));
}

main().catch((error) => {
  console.error(String(error && error.stack ? error.stack : error));
  if (error && error.validationErrors) console.error(error.validationErrors.join("\n"));
  if (error && error.responseBody) console.error(error.responseBody);
  process.exit(1);
});
