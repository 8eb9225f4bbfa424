//! AWS adapters of the Event Store (feature `aws`): the DynamoDB repository
//! and the EventBridge live routes.
