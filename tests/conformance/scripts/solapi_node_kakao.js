// SOLAPI's Node SDK (npm solapi) calling the simulator's Kakao channel and template API.
//
// Environment: SOLAPI_BASE_URL, SOLAPI_API_KEY, SOLAPI_API_SECRET and CALLS, a JSON list of
// {"call": <SolapiMessageService method>, "args": [...]}. The calls run in order; the last line
// of standard output is a JSON list with one entry per call: {"value": <what the SDK returned>}
// or {"error": {...}} when the SDK raised. Dates the SDK turned into Date objects print as ISO
// strings.

const solapi = require("solapi");
const { Schema } = require("effect");

// The SDK decodes some answers with its response schemas and hands others to the caller as they
// came. For the latter the caller is promised the type the SDK declares (index.d.ts), so the
// answer is checked against the SDK's own schema of that type here.
const DECLARED_TYPES = {
  requestKakaoChannelToken: solapi.requestKakaoChannelTokenResponseSchema,
  createKakaoChannel: solapi.createKakaoChannelResponseSchema,
  removeKakaoChannel: solapi.kakaoChannelSchema,
  createKakaoAlimtalkTemplate: solapi.kakaoAlimtalkTemplateSchema,
  updateKakaoAlimtalkTemplate: solapi.kakaoAlimtalkTemplateSchema,
  updateKakaoAlimtalkTemplateName: solapi.kakaoAlimtalkTemplateSchema,
  cancelInspectionKakaoAlimtalkTemplate: solapi.kakaoAlimtalkTemplateSchema,
  removeKakaoAlimtalkTemplate: solapi.kakaoAlimtalkTemplateSchema,
};

// The SDK hard-codes https://api.solapi.com as the `baseUrl` of the services SolapiMessageService
// builds in its constructor and binds its methods to. Those services are not exported, so their
// `baseUrl` is set while the constructor binds them.
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

function checkDeclaredType(call, value) {
  const schema = DECLARED_TYPES[call];
  if (!schema) return;
  try {
    Schema.decodeUnknownSync(schema, { onExcessProperty: "preserve" })(value);
  } catch (problem) {
    throw new Error(`${call} answered outside the SDK's declared type:\n${problem.message}`);
  }
}

function describeError(error) {
  return {
    tag: error._tag || error.name,
    isClientError: error instanceof solapi.ClientError,
    errorCode: error.errorCode,
    errorMessage: error.errorMessage,
    httpStatus: error.httpStatus,
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
      if (error instanceof solapi.ResponseSchemaMismatchError) throw error;
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
