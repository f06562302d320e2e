// A Camunda 7 external-task worker for the order example's ERP, payment and logistics topics, written against
// camunda-external-task-client-js as for a Camunda engine: only the base URL (argv[2]) points at bpmn-runner.
// A card ending in 0002 is declined with the BPMN error PAYMENT_DECLINED (handleBpmnError).
import { Client, Variables } from "camunda-external-task-client-js";

const baseUrl = process.argv[2];
const client = new Client({ baseUrl, asyncResponseTimeout: 10000, lockDuration: 30000, interval: 200 });

function order(task) {
  const value = task.variables.get("order");
  return typeof value === "string" ? JSON.parse(value) : value;
}

client.subscribe("erp.check-stock", async ({ task, taskService }) => {
  const quantity = task.variables.get("quantity");
  const variables = new Variables().set("inStock", quantity <= 10).set("stockLevel", 10);
  await taskService.complete(task, variables);
});

client.subscribe("erp.reserve-stock", async ({ task, taskService }) => {
  await taskService.complete(task, new Variables().set("reservationId", `RES-${order(task).id}`));
});

client.subscribe("erp.back-order", async ({ task, taskService }) => {
  await taskService.complete(task, new Variables().set("backOrderId", `BO-${order(task).id}`));
});

client.subscribe("payment.charge", async ({ task, taskService }) => {
  const card = String(task.variables.get("card"));
  if (card.endsWith("0002")) {
    await taskService.handleBpmnError(task, "PAYMENT_DECLINED", `card ending ${card.slice(-4)} was declined`,
      new Variables().set("declineReason", "card declined"));
    return;
  }
  const amount = task.variables.get("amount");
  await taskService.complete(task, new Variables().set("chargeId", `CH-${order(task).id}`)
    .set("amountCharged", amount));
});

client.subscribe("logistics.book-shipment", async ({ task, taskService }) => {
  const variables = new Variables().set("shipmentId", `SHP-${order(task).id}`)
    .setTyped("carrier", { type: "String", value: "DHL", valueInfo: {} });
  await taskService.complete(task, variables);
});

process.on("SIGTERM", () => { client.stop(); process.exit(0); });
