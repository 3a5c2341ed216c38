with

transactions as (

    select * from {{ ref('silver_validated_transactions') }}

),

products as (

    select * from {{ ref('silver_products') }}

),

described as (

    select
        transactions.transaction_id,
        transactions.transaction_date,
        transactions.store_id,
        transactions.product_id,
        transactions.basket_id,
        transactions.category,
        transactions.status,
        format(
            'On %s (%s), store %s sold %s x %s by %s (%s) at PHP %s each, PHP %s in total, '
            'paid by %s; basket %s; status %s.',
            to_char(transactions.transaction_date, 'YYYY-MM-DD'),
            trim(to_char(transactions.transaction_date, 'Day')),
            transactions.store_id,
            transactions.quantity,
            coalesce(products.product_name, transactions.product_id),
            coalesce(products.brand, 'an unknown brand'),
            transactions.category,
            transactions.unit_price,
            transactions.amount,
            transactions.payment_method,
            transactions.basket_id,
            transactions.status
        ) as embedding_text

    from transactions
    left join products
        on products.product_id = transactions.product_id

),

final as (

    select
        *,
        md5(embedding_text) as text_hash

    from described

)

select * from final
